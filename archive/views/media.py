"""Uploaded images, served by the archive itself so that they work with DEBUG off (`make serve`).

Only a file that an image record names (its cleaned file or its thumbnail) is served, and to the
public only when that image's monument or incident is public; staff see every image, as the admin
does. Nothing else under MEDIA_ROOT is reachable, nor anything outside it. Every stored image is a
re-encoded JPEG, PNG or WebP (archive.images), so the content type comes from a short list, never
from the file, and the browser is told not to sniff it nor run anything in it.
"""

from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db.models import Q
from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

from ..models import Image

CONTENT_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


@require_safe
def serve_media(request, path):
    content_type = CONTENT_TYPES.get(PurePosixPath(path).suffix.lower())
    if content_type is None:
        raise Http404
    images = Image.objects.filter(Q(file=path) | Q(thumbnail=path))
    staff = request.user.is_active and request.user.is_staff
    if not staff:
        images = images & Image.objects.public()
    if not images.exists():
        raise Http404
    root = Path(settings.MEDIA_ROOT).resolve()
    full_path = (root / path).resolve()
    if not full_path.is_relative_to(root) or not full_path.is_file():
        raise Http404
    response = FileResponse(full_path.open("rb"), content_type=content_type, filename=full_path.name)
    response["X-Content-Type-Options"] = "nosniff"
    # Opened on its own, an image may do nothing; django-csp leaves a policy already set alone.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    # An image of a draft, seen by staff, must not stay in a shared cache.
    response["Cache-Control"] = "private, no-store" if staff else "public, max-age=3600"
    return response
