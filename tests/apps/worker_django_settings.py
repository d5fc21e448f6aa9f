"""Django settings for the worker tests (tests/test_worker.py): no database.

``SECURE_PROXY_SSL_HEADER`` trusts X-Forwarded-Proto on purpose: the worker
must drop that header from peers outside ``forwarded_allow_ips``, so even a
project that trusts it cannot be fooled.

``WORKER_DJANGO_FUNCTION_MIDDLEWARE=1`` in the environment adds a
function-style middleware (tests.apps.worker_django_middleware).
"""

import os

SECRET_KEY = "worker-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.apps.worker_django_urls"
INSTALLED_APPS = []
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
if os.environ.get("WORKER_DJANGO_FUNCTION_MIDDLEWARE"):
    MIDDLEWARE.append("tests.apps.worker_django_middleware.timing_middleware")
DATABASES = {}
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_TZ = True
