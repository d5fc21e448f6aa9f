"""Django settings for tests/test_core.py: a 2017 project's usual middleware stack.

``STACKS`` are the middleware settings of each stack the tests serve (see
tests/apps/pipeline_wsgi.py): ``mixins`` (the seven usual ``MiddlewareMixin``
middleware plus a routing one), ``function`` (the same plus one
function-style middleware), ``function-threads`` (that, with
``ASYNC_APP_MIDDLEWARE_IN_THREADS``), ``async-hooks`` (the seven plus a
``MiddlewareMixin`` with an ``async def`` hook) and ``legacy`` (the same classes as
``MIDDLEWARE_CLASSES``). Sessions live in signed cookies: no database.
"""

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

WITH_FUNCTION = (
    USUAL_MIDDLEWARE[:3]
    + ["tests.apps.pipeline_middleware.stamp_middleware"]
    + USUAL_MIDDLEWARE[3:]
)
MIDDLEWARE = USUAL_MIDDLEWARE

STACKS = {
    "mixins": {"MIDDLEWARE": USUAL_MIDDLEWARE},
    "function": {"MIDDLEWARE": WITH_FUNCTION},
    "function-threads": {"MIDDLEWARE": WITH_FUNCTION, "ASYNC_APP_MIDDLEWARE_IN_THREADS": True},
    "async-hooks": {
        "MIDDLEWARE": USUAL_MIDDLEWARE[:3]
        + ["tests.apps.pipeline_middleware.AsyncStampMiddleware"]
        + USUAL_MIDDLEWARE[3:]
    },
    "legacy": {"MIDDLEWARE": None, "MIDDLEWARE_CLASSES": USUAL_MIDDLEWARE},
}
