"""Run Django 1.11's own test suite against a throwaway PostgreSQL server.

Usage: python .ci/django_pg_suite.py DJANGO_TESTS_DIR [--parallel N] LABEL...

Starts a PostgreSQL cluster of its own (``tests/services.PostgresServer``:
initdb + pg_ctl on a free loopback port in a temporary directory, as an
unprivileged user when running as root), writes a settings module whose
``default`` and ``other`` databases live there, and runs Django's
``tests/runtests.py --settings=...`` with the given labels through
``.ci/django_smoke.py`` (its exclusion rules: only listed tests whose condition
holds are skipped, and an exclusion that matches no test is an error). The
server is stopped and its directory removed when the run ends, also when tests
fail or the run is interrupted (SIGTERM, SIGINT).

Like the smoke run, this never imports async_app: the environment's
``async_app_compat.pth`` startup hook applies the shims (psycopg2 2.9's UTC
offset among them), as it would for a project's ``manage.py test``. Without
async_app installed it measures stock Django (the baseline).
"""

import os
import shutil
import signal
import sys
import tempfile
import threading

CI_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(CI_DIR)
sys.path.insert(0, CI_DIR)
sys.path.insert(0, REPO)

import django_smoke  # noqa: E402
from tests.services import PostgresServer  # noqa: E402

SETTINGS_MODULE = "async_app_pg_settings"

SETTINGS = '''\
# Written by .ci/django_pg_suite.py: Django 1.11's test settings on PostgreSQL.
DATABASES = {
    "default": %(default)r,
    "other": %(other)r,
}
SECRET_KEY = "django_tests_secret_key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
'''

# PostgreSQL-only exclusions, in django_smoke's form: (test id or module,
# condition under which it fails here, reason). Each must also fail for stock
# Django 1.11 on Python 3.7 with psycopg2 2.8.6 (the baseline, see
# docs/compat.md), or it is a bug to fix instead.
_server = {}  # filled in by main(): {"version_num": int}


def float4_printed_shortest():
    """True on PostgreSQL 12+, which prints ``real`` values with the shortest exact digits.

    PostgreSQL 12 made ``extra_float_digits = 1`` the default: ``0.333333``
    (6 digits, what Django 1.11's tests expect) is now ``0.33333334``.
    """
    return _server["version_num"] >= 120000


_TRIGRAM_REASON = (
    "PostgreSQL 12+ prints float4 similarity values with the shortest exact digits "
    "(0.33333334, not 0.333333); fails for stock Django 1.11 on 3.7 with psycopg2 2.8 too"
)

PG_EXCLUSIONS = [
    ("postgres_tests.test_trigram.%s.%s" % (cls, name), float4_printed_shortest, _TRIGRAM_REASON)
    for cls in ("TrigramTest", "TrigramTextFieldTest")
    for name in ("test_trigram_similarity", "test_trigram_similarity_alternate")
]


def _restore_thread_is_alive_for_tests():
    """Test-only: ``Thread.isAlive`` (removed in Python 3.9) for Django's own tests.

    ``select_for_update.tests.SelectForUpdateTests.test_block`` calls it;
    Django itself never does, so the compat layer leaves ``threading`` alone.
    Restored here, as the standard-asyncore & co. redistributions restore
    removed modules for the suite, so that test runs on 3.9+ as on 3.7.
    """
    if not hasattr(threading.Thread, "isAlive"):
        threading.Thread.isAlive = threading.Thread.is_alive


def _write_settings(directory, server):
    path = os.path.join(directory, SETTINGS_MODULE + ".py")
    with open(path, "w") as f:
        f.write(
            SETTINGS
            % {
                "default": server.settings(NAME="django_default"),
                "other": server.settings(NAME="django_other"),
            }
        )
    return path


def _raise_system_exit(signum, frame):
    raise SystemExit(128 + signum)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    parent = os.getpid()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _raise_system_exit)
    server = PostgresServer(dbname="django_default")
    settings_dir = tempfile.mkdtemp(prefix="async_app-pg-settings-")
    try:
        server.start()
        server.psql("CREATE DATABASE django_other", dbname="postgres")
        _write_settings(settings_dir, server)
        sys.path.insert(0, settings_dir)
        _server["version_num"] = int(server.psql("SHOW server_version_num"))
        print("PostgreSQL %s on port %d" % (server.psql("SHOW server_version"), server.port))
        sys.stdout.flush()
        _restore_thread_is_alive_for_tests()
        django_smoke.EXCLUSIONS = django_smoke.EXCLUSIONS + PG_EXCLUSIONS
        django_smoke.main(argv[:2] + ["--settings=" + SETTINGS_MODULE] + argv[2:])
    finally:
        if os.getpid() == parent:  # not in a forked test worker
            if server.dir and os.path.exists(os.path.join(server.data_dir, "postmaster.pid")):
                server.running = True  # interrupted inside start(): stop it all the same
            server.stop(remove=True)
            shutil.rmtree(settings_dir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv)
