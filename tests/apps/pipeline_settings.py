"""Django settings for tests/test_core.py: a 2017 project's usual middleware stack.

``$PIPELINE_MIDDLEWARE`` picks the stack: ``mixins`` (the seven usual
``MiddlewareMixin`` middleware plus a routing one), ``function`` (the same
plus one function-style middleware), ``function-threads`` (that, with
``ASYNC_APP_MIDDLEWARE_IN_THREADS``) or ``legacy`` (the same classes as
``MIDDLEWARE_CLASSES``). Sessions live in signed cookies: no database.
"""
import os

SECRET_KEY = "pipeline-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.apps.pipeline_urls"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
]
DATABASES = {}
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": False}]
USE_TZ = True

USUAL_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tests.apps.pipeline_middleware.RoutingMiddleware",
]

_STACK = os.environ.get("PIPELINE_MIDDLEWARE", "mixins")
if _STACK == "legacy":
    MIDDLEWARE = None
    MIDDLEWARE_CLASSES = USUAL_MIDDLEWARE
elif _STACK == "mixins":
    MIDDLEWARE = USUAL_MIDDLEWARE
else:
    MIDDLEWARE = USUAL_MIDDLEWARE[:3] + ["tests.apps.pipeline_middleware.stamp_middleware"] + USUAL_MIDDLEWARE[3:]
ASYNC_APP_MIDDLEWARE_IN_THREADS = _STACK == "function-threads"
