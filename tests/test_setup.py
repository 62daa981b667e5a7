"""Settings from the environment, SQLite in WAL mode with immediate transactions, the demo curator."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def django_python(code, tmp_path, **env):
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "heritage.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_malformed_boolean_setting_is_refused_with_its_name(tmp_path):
    result = django_python("", tmp_path, DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_production_mode_needs_a_secret_key(tmp_path):
    result = django_python("", tmp_path, DEBUG="false", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_sqlite_runs_in_wal_mode_with_immediate_transactions(tmp_path):
    url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    code = (
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('PRAGMA journal_mode')\n"
        "    print(cursor.fetchone()[0])\n"
        "print(connection.settings_dict['OPTIONS']['transaction_mode'])\n"
    )
    result = django_python(code, tmp_path, DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "IMMEDIATE"]


def test_concurrent_writers_do_not_hit_database_is_locked(tmp_path):
    """Two processes each run read-then-write transactions on one SQLite file at the same time.
    With deferred transactions the read lock's upgrade fails at once with "database is locked";
    immediate transactions queue instead."""
    url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "heritage.settings", "DATABASE_URL": url}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    writer = (
        "import django, sys; django.setup()\n"
        "from django.db import transaction\n"
        "from archive.models import Actor\n"
        "name = sys.argv[1]\n"
        "for i in range(60):\n"
        "    with transaction.atomic():\n"
        "        Actor.objects.filter(slug__startswith=name).count()\n"
        "        Actor.objects.create(name=f'{name} {i}', slug=f'{name}-{i}', kind='armed_group')\n"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", writer, name], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for name in ("first", "second")
    ]
    errors = [process.communicate(timeout=300)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], errors
    count = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup()\nfrom archive.models import Actor; print(Actor.objects.count())",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert count.stdout.strip() == "120"


@pytest.mark.django_db
def test_demo_curator_is_created_once_and_its_login_printed():
    out = StringIO()
    call_command("ensure_demo_curator", stdout=out)
    assert "“curator”" in out.getvalue() and "“palmyra-curator”" in out.getvalue()
    user = get_user_model().objects.get(username="curator")
    assert user.is_staff and not user.is_superuser
    assert user.check_password("palmyra-curator")
    user.set_password("changed-by-its-owner")
    user.save()
    call_command("ensure_demo_curator", stdout=StringIO())
    assert get_user_model().objects.get(username="curator").check_password("changed-by-its-owner")


@pytest.mark.django_db
def test_home_answers_with_the_record(client):
    call_command("import_seeds", stdout=StringIO())
    call_command("load_curated_record", stdout=StringIO())
    response = client.get("/")
    assert response.status_code == 200
    assert "Government forces re-enter Palmyra: the archaeological site around mid-day" in response.content.decode()
