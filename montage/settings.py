"""Django settings for the montage project (Django 1.11).

Environment variables (all optional):

``DATABASE_URL``
    ``postgres://user[:password]@host[:port]/name`` (also ``postgresql://``):
    run on that PostgreSQL database (psycopg2, ``pip install async_app[postgres]``).
    Query parameters become connection options (``?sslmode=require``). Unset
    or empty: SQLite (``MONTAGE_DB``).
``MONTAGE_DB``
    Path of the SQLite database when ``DATABASE_URL`` is unset (default
    ``montage/db.sqlite3``).
``MONTAGE_MEDIA_ROOT``
    Where uploaded photos and thumbnails go (default ``montage/media/``).
``MONTAGE_DEBUG``
    ``1`` turns Django's ``DEBUG`` on (default off).
``MONTAGE_SECRET_KEY``
    The secret key; the default is for local development only.
``MONTAGE_ALLOWED_HOSTS``
    Comma-separated extra host names (loopback names are always allowed).
``MONTAGE_IMPORT_TIMEOUT``
    Seconds allowed per URL on ``/import/`` (default 10).
``MONTAGE_EVENTS_KEEPALIVE``
    Seconds between keep-alive comments on ``/events/`` (default 15).
``MONTAGE_BROADCAST_URL``
    Where ``/events/`` announcements travel (``async_app.pubsub``):
    ``postgres://user@host:port/db`` (LISTEN/NOTIFY) or
    ``redis://host:port/0``, so every worker of every host hears every
    upload. Unset: in-process, each worker hears only its own.
"""

import os
from urllib.parse import parse_qsl, unquote, urlsplit

BASE_DIR = os.path.dirname(os.path.abspath(__file__))


def _env_flag(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


SECRET_KEY = os.environ.get("MONTAGE_SECRET_KEY", "montage-local-development-key-do-not-deploy-me")

DEBUG = _env_flag("MONTAGE_DEBUG")

ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"] + [
    host.strip() for host in os.environ.get("MONTAGE_ALLOWED_HOSTS", "").split(",") if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "montage.photos",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "montage.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "montage.wsgi.application"


def database_from_url(url):
    """A Django ``DATABASES`` entry for a ``postgres://user:password@host:port/name`` URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise ValueError("DATABASE_URL: only postgres:// URLs are supported, not %r" % (url,))
    name = unquote(parts.path.lstrip("/"))
    # The raw host, so that a quoted socket directory (%2Frun%2Fpostgresql)
    # keeps its case; brackets of an IPv6 address go.
    host = unquote(parts.netloc.rpartition("@")[2])
    if host.startswith("["):
        host = host[1 : host.index("]")]
    elif ":" in host:
        host = host.rpartition(":")[0]
    if not name:
        raise ValueError("DATABASE_URL names no database: %r" % (url,))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "OPTIONS": dict(parse_qsl(parts.query)),
    }


if os.environ.get("DATABASE_URL", "").strip():
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"].strip())}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("MONTAGE_DB") or os.path.join(BASE_DIR, "db.sqlite3"),
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_L10N = True
USE_TZ = True

STATIC_URL = "/static/"
MEDIA_URL = "/media/"
MEDIA_ROOT = os.environ.get("MONTAGE_MEDIA_ROOT") or os.path.join(BASE_DIR, "media")

# With DEBUG off too, the site serves /static/ and /media/ itself (see
# montage/urls.py): it is a demo on loopback, not behind a web server.

TEST_RUNNER = "montage.testrunner.MontageTestRunner"

# montage's own knobs.
MONTAGE_MAX_UPLOAD_SIZE = 15 * 1024 * 1024
MONTAGE_MAX_PIXELS = 40 * 1000 * 1000
MONTAGE_THUMBNAIL_SIZE = 240
MONTAGE_IMPORT_MAX_URLS = 10
MONTAGE_IMPORT_TIMEOUT = float(os.environ.get("MONTAGE_IMPORT_TIMEOUT", "10"))
MONTAGE_EVENTS_KEEPALIVE = float(os.environ.get("MONTAGE_EVENTS_KEEPALIVE", "15"))
MONTAGE_MONTAGE_LIMIT = 64

# /events/ across workers and hosts (async_app.pubsub; unset: in-process).
ASYNC_APP_PUBSUB_URL = os.environ.get("MONTAGE_BROADCAST_URL", "").strip() or None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "montage": {"handlers": ["console"], "level": "INFO"},
        # lost and re-established pub/sub connections
        "async_app.pubsub": {"handlers": ["console"], "level": "INFO"},
    },
}
