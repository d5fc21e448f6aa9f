"""Settings for the test suite's Django project (every view kind, full middleware)."""

import os
import tempfile

BASE_DIR = os.path.dirname(os.path.abspath(__file__))

SECRET_KEY = "tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "tests.django_project",
    # Models of the ported Django 5.2 async tests (tests/django5).
    "tests.django5",
    # Django REST framework (the async_app[drf] extra): tests/test_drf*.py
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "tests.drf_app",
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

ROOT_URLCONF = "tests.django_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [os.path.join(BASE_DIR, "templates")],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# A file database so that gunicorn processes started by tests can share it.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get(
            "ASYNC_APP_TEST_DB", os.path.join(tempfile.gettempdir(), "async_app_tests.sqlite3")
        ),
        "TEST": {"NAME": os.environ.get("ASYNC_APP_TEST_DB")},
    }
}

# PostgreSQL mode (ASYNC_APP_TEST_POSTGRES=1, tests/conftest.py): the server
# tests/conftest.py started, or the one these variables name. A SQLite file
# named by ASYNC_APP_TEST_DB wins: the gunicorn-served tests' subprocesses
# share one that the tests read with sqlite3 (tests/toolkit_fixtures.py).
if os.environ.get("ASYNC_APP_TEST_PG_PORT") and not os.environ.get("ASYNC_APP_TEST_DB"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("ASYNC_APP_TEST_PG_NAME", "async_app"),
            "USER": os.environ.get("ASYNC_APP_TEST_PG_USER", ""),
            "HOST": os.environ.get("ASYNC_APP_TEST_PG_HOST", "127.0.0.1"),
            "PORT": os.environ["ASYNC_APP_TEST_PG_PORT"],
            # One test database per pytest-xdist worker on the shared server.
            "TEST": {"NAME": "test_async_app_" + os.environ.get("PYTEST_XDIST_WORKER", "main")},
        }
    }

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = True

SECURE_PROXY_SSL_HEADER = None
SESSION_ENGINE = "django.contrib.sessions.backends.db"

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # DRF throttles counted in the database (tests/test_drf*.py)
    "drf_db": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "drf_throttle_cache",
    },
}
