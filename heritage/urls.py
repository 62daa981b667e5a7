from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from archive.views.media import serve_media

admin.site.site_header = "Heritage-damage archive — curation"
admin.site.site_title = "Heritage-damage archive"
admin.site.index_title = "The record"

urlpatterns = [
    path("admin/", admin.site.urls),
    # Uploaded images, with DEBUG on or off: only the files of image records (archive/views/media.py).
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", serve_media, name="media"),
    path("", include("archive.urls")),
]
