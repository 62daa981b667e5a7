from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Heritage-damage archive — curation"
admin.site.site_title = "Heritage-damage archive"
admin.site.index_title = "The record"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("archive.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
