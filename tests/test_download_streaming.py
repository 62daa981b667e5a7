"""Full downloads are whole and valid; a download that fails part-way never looks whole.

A download streams with chunked transfer encoding. If reading the rows fails after the 200 and the
first rows have gone out, the writer must not close the JSON array (or write anything that ends the
file validly): the exception leaves the response iterator, and the server drops the connection
without the final zero-length chunk, which a client reports as an incomplete transfer.
"""

import csv
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import RequestFactory

from archive.management.commands.generate_synthetic import generate
from archive.models import Incident, Source
from archive.views import downloads

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def synthetic(db):
    made = generate(2000)
    assert made["incidents"] == 2000
    return made


def body(response):
    return b"".join(response.streaming_content).decode("utf-8")


@pytest.mark.parametrize("fmt", ["csv", "json", "geojson"])
def test_a_full_incident_download_is_valid_with_every_published_row(client, synthetic, monkeypatch, fmt):
    monkeypatch.setattr(downloads, "CHUNK_SIZE", 500)
    published = Incident.objects.public().count()
    assert published > downloads.CHUNK_SIZE * 2  # several chunks
    text = body(client.get(f"/incidents/download/{fmt}/"))
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == downloads.INCIDENT_COLUMNS
        slugs = [row[0] for row in rows[1:]]
    elif fmt == "json":
        slugs = [item["slug"] for item in json.loads(text)]
    else:
        slugs = [feature["properties"]["slug"] for feature in json.loads(text)["features"]]
    assert len(slugs) == len(set(slugs)) == published
    assert slugs == list(Incident.objects.public().order_by("occurred_from", "slug").values_list("slug", flat=True))


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_full_source_download_is_valid_with_every_public_source(client, synthetic, monkeypatch, fmt):
    monkeypatch.setattr(downloads, "CHUNK_SIZE", 100)  # 2,000 incidents cite 400 sources
    text = body(client.get(f"/sources/download/{fmt}/"))
    if fmt == "csv":
        count = len(list(csv.DictReader(io.StringIO(text))))
    else:
        sources = json.loads(text)
        count = len(sources)
        assert sum(len(source["cited_passages"]) for source in sources) > count
    assert count == Source.objects.public().count() > downloads.CHUNK_SIZE


def failing_after_first_chunk(batches):
    """Stands in for a database that fails while the download streams (a dropped connection)."""

    def failing(rows):
        for number, batch in enumerate(batches(rows)):
            if number == 1:
                raise ConnectionError("the database went away")
            yield batch

    return failing


@pytest.mark.parametrize(
    ("url", "end"),
    [
        ("/incidents/download/json/", b"]"),
        ("/incidents/download/geojson/", b"]}"),
        ("/incidents/download/csv/", None),
        ("/sources/download/json/", b"]"),
    ],
)
def test_through_the_wsgi_handler_a_failure_mid_way_leaves_the_response_unfinished(synthetic, monkeypatch, url, end):
    monkeypatch.setattr(downloads, "CHUNK_SIZE", 100)
    monkeypatch.setattr(downloads, "_batches", failing_after_first_chunk(downloads._batches))
    environ = RequestFactory()._base_environ(PATH_INFO=url, REQUEST_METHOD="GET")
    started = []
    received = []
    # As Django's test client does: the handler must not close the test's database connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        response = WSGIHandler()(environ, lambda status, headers: started.append(status))
        with pytest.raises(ConnectionError):
            for piece in response:
                received.append(piece)
        response.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    assert started == ["200 OK"]
    sent = b"".join(received)
    assert sent  # the first chunk went out...
    if end:  # ...but the file was not closed
        assert not sent.rstrip().endswith(end)
        with pytest.raises(ValueError):
            json.loads(sent)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """gunicorn with the deployment's settings (heritage/gunicorn.conf.py) on a scratch SQLite file of
    small synthetic data; its workers read the rows through a stand-in that fails after one chunk."""
    folder = tmp_path_factory.mktemp("gunicorn")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "DEBUG": "false",
        "SECRET_KEY": "test-only-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(folder / "static"),
        "PORT": str(port),
        "HTTPS": "false",  # plain HTTP on the loopback, no redirect to https
        "SECURE_SSL_REDIRECT": "false",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "generate_synthetic", "--incidents", "60", "-v0"], env=env, check=True, cwd=ROOT)
    config = folder / "gunicorn.conf.py"
    config.write_text(
        f"exec(open({str(ROOT / 'heritage' / 'gunicorn.conf.py')!r}).read())\n"
        "accesslog = None\n"
        "def post_worker_init(worker):\n"
        "    from archive.views import downloads\n"
        "    from tests.test_download_streaming import failing_after_first_chunk\n"
        "    downloads.CHUNK_SIZE = 10\n"
        "    downloads._batches = failing_after_first_chunk(downloads._batches)\n"
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(config)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail(f"gunicorn did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
    yield port
    server.terminate()
    server.wait(timeout=30)


@pytest.mark.parametrize("url", ["/incidents/download/json/", "/incidents/download/csv/", "/sources/download/json/"])
def test_under_gunicorn_a_client_sees_a_download_that_failed_mid_way_as_incomplete(gunicorn, url):
    connection = http.client.HTTPConnection("127.0.0.1", gunicorn, timeout=30)
    connection.request("GET", url)
    response = connection.getresponse()
    assert response.status == 200  # sent before the failure
    assert response.getheader("Transfer-Encoding") == "chunked"
    with pytest.raises(http.client.IncompleteRead) as incomplete:
        response.read()
    assert incomplete.value.partial  # the first chunk arrived, and the client knows the rest did not
    connection.close()


def test_under_gunicorn_pages_still_answer_after_failed_downloads(gunicorn):
    connection = http.client.HTTPConnection("127.0.0.1", gunicorn, timeout=30)
    connection.request("GET", "/incidents/")
    response = connection.getresponse()
    assert response.status == 200
    assert b"Synthetic" in response.read()
    connection.close()
