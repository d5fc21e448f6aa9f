"""Settings of the soak project: a 2017-style Django 1.11 site on PostgreSQL.

The database comes from the environment (``SOAK_PG_HOST``, ``SOAK_PG_PORT``,
``SOAK_PG_USER``, ``SOAK_PG_NAME``) so that the suite can point every worker
at its throwaway server; ``SOAK_CONN_MAX_AGE`` (default 60: persistent
connections, the case that must recover from a database restart).
``USE_TZ`` is off: psycopg2 2.9 reports the connection's UTC offset in a way
Django 1.11's ``USE_TZ`` check refuses (docs/compat.md), and the soak is not
about that.
"""

import os

SECRET_KEY = "soak-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "soak.urls"
USE_TZ = False
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "soak",
]
MIDDLEWARE = [
    "soak.middleware.worker_stats",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("SOAK_PG_HOST", "127.0.0.1"),
        "PORT": os.environ.get("SOAK_PG_PORT", "5432"),
        "USER": os.environ.get("SOAK_PG_USER", "postgres"),
        "NAME": os.environ.get("SOAK_PG_NAME", "async_app"),
        "CONN_MAX_AGE": int(os.environ.get("SOAK_CONN_MAX_AGE", "60")),
        "OPTIONS": {"connect_timeout": 5},
    }
}
# Uploads up to 2 MiB stay in memory in Django, larger ones go to a temp file.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
LOGGING_CONFIG = None
