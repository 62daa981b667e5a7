"""The production deployment: `make serve` with DEBUG off, `check --deploy`, media served without
DEBUG, the Content Security Policy, login throttling, a TLS proxy in front, the demo curator kept to
development, and the archive's own 404 and 500 pages."""

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.http import HttpResponse
from django.test import override_settings
from django.urls import path

from tests.factories import make_incident, make_monument
from tests.test_admin import make_image

ROOT = Path(__file__).resolve().parent.parent
ADMIN_USERNAME = "deploy-editor"
ADMIN_PASSWORD = "a-long-test-only-password-7"
PUBLIC_HOST = "archive.example.org"


def production_env(**overrides):
    """The environment of a production process: DEBUG off, a real secret key, nothing inherited that
    would point it at the developer's database."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"DATABASE_URL", "TEST_DATABASE_NAME", "DJANGO_SETTINGS_MODULE", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="heritage.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=PUBLIC_HOST,
    )
    env.update(overrides)
    return env


def manage(*args, env, timeout=300):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


# ---------------------------------------------------------------- check --deploy


def test_check_deploy_prints_no_warning_under_the_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_defaults_to_https_with_hsts():
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings as s\n"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_PROXY_SSL_HEADER)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=production_env(), capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "31536000", "True", "True", "None"]
    # A plain-HTTP local `make serve` turns HTTPS off; a TLS proxy in front is opt-in.
    local = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=production_env(HTTPS="false", BEHIND_TLS_PROXY="true"),
        capture_output=True,
        text=True,
    )
    assert local.returncode == 0, local.stderr
    assert local.stdout.split() == ["False", "0", "False", "False", "('HTTP_X_FORWARDED_PROTO',", "'https')"]


# ---------------------------------------------------------------- the demo curator


def test_demo_curator_is_refused_with_debug_off(tmp_path):
    database = tmp_path / "production.sqlite3"
    result = manage("ensure_demo_curator", env=production_env(DATABASE_URL=f"sqlite:///{database}"))
    assert result.returncode != 0
    assert "only in development" in result.stderr
    assert "palmyra-curator" not in result.stdout + result.stderr
    assert not database.exists() or database.stat().st_size == 0


@pytest.mark.django_db
def test_demo_curator_command_refuses_outside_development(settings):
    settings.DEVELOPMENT = False
    with pytest.raises(CommandError, match="only in development"):
        call_command("ensure_demo_curator", stdout=StringIO())
    assert not get_user_model().objects.filter(username="curator").exists()


def test_make_serve_does_not_create_the_demo_curator():
    dry_run = subprocess.run(["make", "-n", "serve"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert dry_run.returncode == 0, dry_run.stderr
    assert "gunicorn" in dry_run.stdout and "collectstatic" in dry_run.stdout
    assert "ensure_demo_curator" not in dry_run.stdout


# ---------------------------------------------------------------- media without DEBUG


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.mark.django_db
def test_a_public_image_is_served_without_debug(client, settings, media_root):
    assert settings.DEBUG is False
    image = make_image(monument=make_monument())
    for field in (image.file, image.thumbnail):
        response = client.get(field.url)
        assert response.status_code == 200, field.url
        assert response["Content-Type"] == "image/jpeg"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"].startswith("inline")
        assert "sandbox" in response["Content-Security-Policy"]
        assert b"".join(response.streaming_content) == Path(field.path).read_bytes()


@pytest.mark.django_db
def test_an_image_of_a_draft_is_not_public(client, admin_client, media_root):
    draft = make_incident(monuments=[make_monument()])
    image = make_image(incident=draft, monument=None)
    assert client.get(image.file.url).status_code == 404
    assert client.get(image.thumbnail.url).status_code == 404
    # Curators preview it in the admin.
    assert admin_client.get(image.file.url).status_code == 200


@pytest.mark.django_db
def test_only_the_files_of_images_are_served(client, media_root):
    make_image(monument=make_monument())
    stray = media_root / "images" / "page.html"
    stray.write_text("<script>alert(1)</script>")
    (media_root / "images" / "loose.jpg").write_bytes(b"\xff\xd8 not an image record")
    for url in (
        "/media/images/page.html",
        "/media/images/loose.jpg",
        "/media/images/",
        "/media/../heritage/settings.py",
        "/media/images/..%2F..%2Fheritage%2Fsettings.py",
        "/media/%2Fetc%2Fpasswd",
    ):
        assert client.get(url).status_code == 404, url


# ---------------------------------------------------------------- Content Security Policy


@pytest.mark.django_db
def test_every_page_carries_a_content_security_policy(client):
    response = client.get("/")
    policy = dict(
        directive.strip().split(" ", 1) for directive in response["Content-Security-Policy"].split(";") if directive
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["form-action"] == "'self'"


# ---------------------------------------------------------------- login throttling


@pytest.mark.django_db
def test_admin_login_locks_out_after_repeated_failures(client, admin_user):
    admin_user.set_password(ADMIN_PASSWORD)
    admin_user.save()
    login = "/admin/login/?next=/admin/"
    for _ in range(30):
        response = client.post(login, {"username": admin_user.username, "password": "wrong"})
        if response.status_code == 429:
            break
    response = client.post(login, {"username": admin_user.username, "password": ADMIN_PASSWORD})
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session

    # The admin shows the lockout to whoever may see it.
    staff = get_user_model().objects.create_superuser("second-admin", "second@example.org", "pw")
    other = client.__class__()
    other.force_login(staff)
    listing = other.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert admin_user.username in listing.content.decode()

    # Lifting the lockout (axes_reset, or deleting the attempt in the admin) lets the right password in.
    call_command("axes_reset", stdout=StringIO())
    response = client.post(login, {"username": admin_user.username, "password": ADMIN_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/admin/"


@pytest.mark.django_db
def test_a_few_mistakes_do_not_lock_anyone_out(client, admin_user):
    admin_user.set_password(ADMIN_PASSWORD)
    admin_user.save()
    for _ in range(3):
        assert client.post("/admin/login/", {"username": admin_user.username, "password": "typo"}).status_code == 200
    response = client.post("/admin/login/?next=/admin/", {"username": admin_user.username, "password": ADMIN_PASSWORD})
    assert response.status_code == 302


# ---------------------------------------------------------------- 404 and 500 pages


def failing_view(request):
    raise RuntimeError("a bug")


def fine_view(request):
    return HttpResponse("fine")


urlpatterns = [path("boom/", failing_view), path("fine/", fine_view)]


@pytest.mark.django_db
def test_not_found_page_is_in_the_archive_look(client):
    response = client.get("/monuments/no-such-monument/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'class="site-header"' in html and "archive.css" in html
    assert "Page not found" in html


@override_settings(ROOT_URLCONF="tests.test_deploy")
def test_server_error_page_is_in_the_archive_look_and_needs_no_database(client):
    # No django_db mark: any query made while answering would raise instead of passing unseen.
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert 'class="site-header"' in html and "archive.css" in html
    assert "Something went wrong" in html


# ---------------------------------------------------------------- `make serve`, for real


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    url: str
    port: int
    env: dict
    log: Path

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.headers, response.read()
        finally:
            connection.close()


IMAGE_SNIPPET = """
import django; django.setup()
import io
from PIL import Image as PILImage
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from archive.models import Image, Monument
buffer = io.BytesIO()
PILImage.new("RGB", (320, 200), (190, 140, 80)).save(buffer, "JPEG")
image = Image(monument=Monument.objects.get(slug="temple-of-bel"), kind="after",
              file=SimpleUploadedFile("bel.jpg", buffer.getvalue()),
              caption="The cella after the blast", credit="Test photographer", licence="CC BY 4.0")
image.save()
get_user_model().objects.create_superuser("{username}", "editor@example.org", "{password}")
print(image.file.url)
"""


def wait_until_up(process, port, log, seconds=240):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped (exit {process.returncode}):\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the server did not start in {seconds} s:\n{log.read_text()}")


@contextmanager
def running(command, env, port, log):
    with open(log, "w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until_up(process, port, log)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def prepared_archive(tmp_path_factory):
    """A temporary SQLite archive with the seeds, the curated record, one cleaned image of the
    Temple of Bel and a superuser, and the production environment that serves it over plain HTTP."""
    folder = tmp_path_factory.mktemp("deployment")
    env = production_env(
        DATABASE_URL=f"sqlite:///{folder / 'archive.sqlite3'}",
        MEDIA_ROOT=str(folder / "media"),
        STATIC_ROOT=str(folder / "static"),
        ALLOWED_HOSTS="127.0.0.1",
        HTTPS="false",
    )
    for command in (["migrate", "--noinput"], ["import_seeds"], ["load_curated_record"]):
        result = manage(*command, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    snippet = IMAGE_SNIPPET.format(username=ADMIN_USERNAME, password=ADMIN_PASSWORD)
    result = subprocess.run([sys.executable, "-c", snippet], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return folder, env, result.stdout.strip()


@contextmanager
def make_serve(tmp_path_factory):
    """`make serve`, exactly as the README says, on a free loopback port."""
    folder, env, image_url = prepared_archive(tmp_path_factory)
    port = free_port()
    log = folder / "serve.log"
    with running(["make", "serve", f"PORT={port}"], env, port, log):
        served = Served(url=f"http://127.0.0.1:{port}", port=port, env=env, log=log)
        served.image_url = image_url
        served.folder = folder
        yield served


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with make_serve(tmp_path_factory) as server:
        yield server


def test_make_serve_answers_every_page_with_debug_off(served):
    for page in ("/", "/incidents/temple-of-bel-destroyed/", "/monuments/temple-of-bel/", "/sources/", "/admin/login/"):
        status, _, _, body = served.request("GET", page)
        assert status == 200, (page, served.log.read_text()[-3000:])
    status, headers, _, body = served.request("GET", "/")
    assert "Content-Security-Policy" in headers
    assert b"Traceback" not in body
    # collectstatic ran: the stylesheet comes from STATIC_ROOT, fingerprinted, through whitenoise.
    stylesheet = re.search(rb'href="(/static/archive/archive\.[0-9a-f]{12}\.css)"', body)
    assert stylesheet, body[:2000]
    status, headers, _, _ = served.request("GET", stylesheet.group(1).decode())
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    assert "max-age=315360000" in headers["Cache-Control"]


def test_make_serve_serves_the_image_and_a_404_page(served):
    status, headers, _, body = served.request("GET", served.image_url)
    assert status == 200
    assert headers["Content-Type"] == "image/jpeg" and body.startswith(b"\xff\xd8")
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, _, _, body = served.request("GET", "/no-such-page/")
    assert status == 404 and b'class="site-header"' in body


def test_make_serve_has_no_demo_curator(served):
    code = (
        "import django; django.setup()\n"
        "from django.contrib.auth import get_user_model\n"
        "print(sorted(get_user_model().objects.values_list('username', flat=True)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=served.env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"['{ADMIN_USERNAME}']"


# ---------------------------------------------------------------- behind a TLS proxy


def cookies_from(headers):
    cookies = {}
    for value in headers.get_all("Set-Cookie") or []:
        name, _, rest = value.partition("=")
        cookies[name] = rest.split(";", 1)[0]
    return cookies


def proxied_login(server, host, origin):
    """The admin login as a TLS-terminating proxy passes it on: plain HTTP with X-Forwarded-Proto."""
    forwarded = {"Host": host, "X-Forwarded-Proto": "https"}
    status, _, headers, body = server.request("GET", "/admin/login/?next=/admin/", headers=forwarded)
    assert status == 200, (status, headers.get("Location"))
    cookies = cookies_from(headers)
    assert all("secure" in cookie.lower() for cookie in headers.get_all("Set-Cookie"))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = urlencode(
        {"csrfmiddlewaretoken": token, "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD, "next": "/admin/"}
    )
    status, _, headers, body = server.request(
        "POST",
        "/admin/login/?next=/admin/",
        body=form,
        headers={
            **forwarded,
            "Origin": origin,
            "Referer": f"{origin}/admin/login/",
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
        },
    )
    return status, headers, body


def test_admin_login_works_behind_a_tls_proxy(served):
    port = free_port()
    env = {
        **served.env,
        "HTTPS": "true",
        "BEHIND_TLS_PROXY": "true",
        "ALLOWED_HOSTS": f"{PUBLIC_HOST},127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": f"https://{PUBLIC_HOST}",
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "heritage/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
    with running(command, env, port, served.folder / "proxied.log"):
        server = Served(url=f"http://127.0.0.1:{port}", port=port, env=env, log=served.folder / "proxied.log")
        # The proxy keeps the public host name.
        status, headers, body = proxied_login(server, PUBLIC_HOST, f"https://{PUBLIC_HOST}")
        assert status == 302 and headers["Location"] == "/admin/", body[:3000]
        # The proxy passes its own upstream address: CSRF_TRUSTED_ORIGINS names the public origin.
        status, headers, body = proxied_login(server, f"127.0.0.1:{port}", f"https://{PUBLIC_HOST}")
        assert status == 302 and headers["Location"] == "/admin/", body[:3000]
        # Plain HTTP straight to the server is sent to HTTPS.
        status, _, headers, _ = server.request("GET", "/", headers={"Host": PUBLIC_HOST})
        assert status == 301 and headers["Location"] == f"https://{PUBLIC_HOST}/"
        _, response_headers, _, _ = server.request(
            "GET", "/", headers={"Host": PUBLIC_HOST, "X-Forwarded-Proto": "https"}
        )
        assert response_headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
