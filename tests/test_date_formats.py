"""One date format for typing dates (issue 11, item 5): ISO YYYY-MM-DD in the admin's inputs and in
the public filters; words in running text."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import make_source

pytestmark = pytest.mark.django_db


def test_the_admin_shows_and_takes_dates_as_yyyy_mm_dd(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw"))
    source = make_source(published_on=datetime.date(2016, 3, 23))
    page = client.get(reverse("admin:archive_source_change", args=[source.pk])).content.decode()
    assert 'name="published_on" value="2016-03-23"' in page
    assert "23/03/2016" not in page


def test_the_public_date_filters_are_typed_as_yyyy_mm_dd_and_refuse_another_format(client):
    page = client.get("/incidents/").content.decode()
    assert page.count('placeholder="YYYY-MM-DD"') == 2
    assert 'type="date"' not in page  # a browser would show its own locale's format
    assert client.get("/incidents/?date_from=2016-01-01").status_code == 200
    refused = client.get("/incidents/?date_from=01/02/2016")
    assert "Enter a valid date." in refused.content.decode()
