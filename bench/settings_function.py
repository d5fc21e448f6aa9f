"""The benchmark's settings plus one function-style middleware (bench/middleware.py)."""

from bench.settings import *  # noqa: F401,F403
from bench.settings import MIDDLEWARE

MIDDLEWARE = MIDDLEWARE[:3] + ["bench.middleware.timing_middleware"] + MIDDLEWARE[3:]
