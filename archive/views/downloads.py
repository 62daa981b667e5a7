"""Public downloads of exactly what the public can see (CSV, JSON, GeoJSON)."""

from django.http import Http404
from django.views.decorators.http import require_safe


@require_safe
def incident_download(request, fmt):
    raise Http404("Downloads are not available yet.")


@require_safe
def monument_download(request, fmt):
    raise Http404("Downloads are not available yet.")


@require_safe
def source_download(request, fmt):
    raise Http404("Downloads are not available yet.")
