"""Django settings for the WebSocket tests (tests/test_websocket*.py): no database.

Sessions are signed cookies, so a WebSocket view can be authenticated by the
session without a database; ``ALLOWED_HOSTS`` is narrow on purpose.
"""

SECRET_KEY = "websocket-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "tests.apps.websocket_urls"
INSTALLED_APPS = ["django.contrib.sessions"]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "tests.apps.websocket_urls.seen_by_response_middleware",
]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
DATABASES = {}
USE_TZ = True
ASYNC_APP_WEBSOCKET_ALLOWED_ORIGINS = ["https://trusted.example", ".partner.example"]
ASYNC_APP_WEBSOCKET_MAX_MESSAGE_SIZE = 64 * 1024
ASYNC_APP_WEBSOCKET_HEARTBEAT = 30.0
