"""No page loads related rows one object at a time: every public page, every admin changelist and
change page is rendered over the curated record under django-zeal, which raises on an N+1."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from zeal import zeal_context

from archive.models import Actor, Citation, Incident, Monument, Site, Source

pytestmark = pytest.mark.django_db


@pytest.fixture
def record():
    call_command("import_seeds", stdout=StringIO())
    call_command("load_curated_record", stdout=StringIO())


def public_urls():
    urls = [reverse("archive:home"), reverse("archive:timeline-svg")]
    for name in ("monument", "incident", "source", "actor"):
        urls.append(reverse(f"archive:{name}-list"))
    urls += [monument.get_absolute_url() for monument in Monument.objects.all()]
    urls += [incident.get_absolute_url() for incident in Incident.objects.all()]
    urls += [source.get_absolute_url() for source in Source.objects.all()]
    urls += [actor.get_absolute_url() for actor in Actor.objects.all()]
    urls += [site.get_absolute_url() for site in Site.objects.all()]
    urls += [
        reverse("archive:site-plan-svg", args=[site.slug])
        for site in Site.objects.filter(monuments__latitude__isnull=False).distinct()
    ]
    urls += [reverse("archive:incident-list") + "?kind=destruction&q=temple"]
    return urls


def test_public_pages_have_no_n_plus_one(client, record):
    for url in public_urls():
        with zeal_context():
            response = client.get(url)
        assert response.status_code == 200, url


def test_a_site_without_coordinates_says_so_instead_of_a_plan(client, record):
    response = client.get(reverse("archive:site-plan-svg", args=["aleppo-old-city"]))
    assert response.status_code == 200  # not a 404: the plan says why there is nothing to draw
    assert "coordinates" in response.content.decode()


def test_admin_pages_have_no_n_plus_one(client, record):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw"))
    urls = []
    for model in (Site, Monument, Actor, Source, Incident, Citation):
        name = model._meta.model_name
        urls.append(reverse(f"admin:archive_{name}_changelist"))
        urls.append(reverse(f"admin:archive_{name}_change", args=[model.objects.first().pk]))
    for url in urls:
        with zeal_context():
            response = client.get(url)
        assert response.status_code == 200, url
