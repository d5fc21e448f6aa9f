"""The test project's settings plus a function-style middleware.

Its ``__call__`` cannot be split into hooks, so the pipeline runs it in a
bridge thread and reaches coroutine views through ``run_coroutine()``: the
path where coroutine code is entered from sync code.
"""

from .settings import *  # noqa: F401,F403
from .settings import MIDDLEWARE

MIDDLEWARE = MIDDLEWARE + ["tests.django_project.toolkit_views.passthrough_middleware"]
