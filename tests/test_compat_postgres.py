"""async_app.compat and PostgreSQL: Django 1.11 with psycopg2 2.9 on a real server.

psycopg2 2.9 hands the connection's UTC offset to ``cursor.tzinfo_factory``
as a ``timedelta``; Django 1.11's factory compares it with ``0`` and raises
"database connection isn't set to UTC" for every query that returns a
``timestamptz`` under ``USE_TZ = True``. The Django-level check runs in a
subprocess that never imports async_app (the startup hook alone), against the
session's throwaway PostgreSQL server (tests/services.py).
"""

import datetime
import json
import os
import subprocess
import sys
import textwrap

import psycopg2
import pytest

from async_app import compat

PROBE = textwrap.dedent(r'''
    import json, sys
    import django
    from django.conf import settings

    settings.configure(
        SECRET_KEY="probe", USE_TZ=True, TIME_ZONE="Europe/Paris",
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        DATABASES={"default": json.loads(sys.argv[1])},
    )
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    import datetime
    joined = datetime.datetime(2017, 6, 1, 10, 30, tzinfo=timezone.utc)
    User.objects.create(username="legacy", date_joined=joined)
    user = User.objects.get(username="legacy")
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz", ["2017-06-01 12:30+02"])
        raw = cursor.fetchone()[0]
    print(json.dumps({
        "async_app_imported": "async_app" in sys.modules,
        "psycopg2": __import__("psycopg2").__version__.split()[0],
        "date_joined": user.date_joined.isoformat(),
        "same": user.date_joined == joined,
        "raw": raw.isoformat(),
        "raw_utc": raw.tzinfo is timezone.utc,
        "filtered": User.objects.filter(date_joined__year=2017, date_joined__lt=timezone.now()).count(),
    }))
''')


def test_utc_check_accepts_both_offset_types():
    factory = compat._utc_tzinfo_factory_for(datetime.timezone.utc)
    assert factory(0) is datetime.timezone.utc  # psycopg2 2.8: minutes
    assert factory(datetime.timedelta(0)) is datetime.timezone.utc  # psycopg2 2.9
    for offset in (60, datetime.timedelta(hours=1), datetime.timedelta(minutes=-30)):
        with pytest.raises(AssertionError, match="isn't set to UTC"):
            factory(offset)


def test_django_postgresql_utils_is_patched():
    from django.db.backends.postgresql import base, utils

    assert utils.utc_tzinfo_factory._async_app_compat_role == "psycopg2-utc-offset"
    assert base.utc_tzinfo_factory is utils.utc_tzinfo_factory
    with pytest.raises(AssertionError):
        utils.utc_tzinfo_factory(datetime.timedelta(hours=2))


def test_django_with_use_tz_on_postgresql(postgres_server, tmp_path):
    """Migrate, write and read aware datetimes with psycopg2 2.9, startup hook only."""
    postgres_server.psql("DROP DATABASE IF EXISTS compat_probe", dbname="postgres")
    postgres_server.psql("CREATE DATABASE compat_probe", dbname="postgres")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-W",
            "ignore",
            "-c",
            PROBE,
            json.dumps(postgres_server.settings(NAME="compat_probe")),
        ],
        cwd=str(tmp_path),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {
        "async_app_imported": False,
        "psycopg2": psycopg2.__version__.split()[0],
        "date_joined": "2017-06-01T10:30:00+00:00",
        "same": True,
        "raw": "2017-06-01T10:30:00+00:00",
        "raw_utc": True,
        "filtered": 1,
    }
