"""Public, read-only pages. Only published incidents, and what they cite, are shown."""

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from ..models import Actor, Incident, Monument, Site, Source


@require_safe
def home(request):
    incidents = Incident.objects.published().curated().select_related("site", "perpetrator").order_by("-occurred_from")
    context = {
        "counts": {
            "incidents": incidents.count(),
            "monuments": Monument.objects.count(),
            "sources": Source.objects.public().count(),
        },
        "latest": incidents[:10],
    }
    return render(request, "archive/home.html", context)


@require_safe
def site_detail(request, slug):
    site = get_object_or_404(Site, slug=slug)
    return render(request, "archive/simple_detail.html", {"object": site})


@require_safe
def monument_list(request):
    return render(request, "archive/simple_list.html", {"objects": Monument.objects.select_related("site")})


@require_safe
def monument_detail(request, slug):
    return render(request, "archive/simple_detail.html", {"object": get_object_or_404(Monument, slug=slug)})


@require_safe
def incident_list(request):
    return render(request, "archive/simple_list.html", {"objects": Incident.objects.published()[:100]})


@require_safe
def incident_detail(request, slug):
    incident = get_object_or_404(Incident.objects.published(), slug=slug)
    return render(request, "archive/simple_detail.html", {"object": incident})


@require_safe
def source_list(request):
    return render(request, "archive/simple_list.html", {"objects": Source.objects.public()})


@require_safe
def source_detail(request, slug):
    return render(request, "archive/simple_detail.html", {"object": get_object_or_404(Source.objects.public(), slug=slug)})


@require_safe
def actor_list(request):
    return render(request, "archive/simple_list.html", {"objects": Actor.objects.all()})


@require_safe
def actor_detail(request, slug):
    return render(request, "archive/simple_detail.html", {"object": get_object_or_404(Actor, slug=slug)})
