"""The test project with ASYNC_APP_MIDDLEWARE_IN_THREADS: DRF's checks run in the bridge pool."""

from tests.django_project.settings import *  # noqa: F401,F403

ASYNC_APP_MIDDLEWARE_IN_THREADS = True
