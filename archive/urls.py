from django.urls import path

from .views import downloads, pages

app_name = "archive"

urlpatterns = [
    # Public pages (archive/views/pages.py)
    path("", pages.home, name="home"),
    path("timeline.svg", pages.timeline_svg, name="timeline-svg"),
    path("sites/", pages.site_list, name="site-list"),
    path("sites/<slug:slug>/", pages.site_detail, name="site-detail"),
    path("sites/<slug:slug>/plan.svg", pages.site_plan_svg, name="site-plan-svg"),
    path("monuments/", pages.monument_list, name="monument-list"),
    path("monuments/<slug:slug>/", pages.monument_detail, name="monument-detail"),
    path("incidents/", pages.incident_list, name="incident-list"),
    path("incidents/<slug:slug>/", pages.incident_detail, name="incident-detail"),
    path("sources/", pages.source_list, name="source-list"),
    path("sources/<slug:slug>/", pages.source_detail, name="source-detail"),
    path("actors/", pages.actor_list, name="actor-list"),
    path("actors/<slug:slug>/", pages.actor_detail, name="actor-detail"),
    path("about/methodology/", pages.methodology, name="methodology"),
    # Public downloads (archive/views/downloads.py)
    path("incidents/download/<str:fmt>/", downloads.incident_download, name="incident-download"),
    path("monuments/download/<str:fmt>/", downloads.monument_download, name="monument-download"),
    path("sources/download/<str:fmt>/", downloads.source_download, name="source-download"),
]
