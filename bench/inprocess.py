"""In-process harness: the pipeline's own cost per request, without a server or a socket.

``python -m bench.inprocess`` awaits ``AsyncDjangoApplication(environ,
start_response)`` for montage's ``/hello/?delay=0`` (coroutine view) and
``/sync-hello/?delay=0`` (its sync twin), behind the benchmark's middleware
stack (montage's seven ``MiddlewareMixin``), with and without one
function-style middleware, ``BENCH_CONCURRENCY`` (default 64) requests at a
time. Rows alternate within each of ``BENCH_REPEATS`` (default 5) repeats;
printed: requests per CPU-second of the process (median and spread; CPU
time, so the other load of a shared machine counts little) and the ratios of
the same run.
"""
import asyncio
import io
import os
import statistics
import sys
import time

import async_app  # noqa: F401  (compat shims first)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from async_app import AsyncDjangoApplication  # noqa: E402

FUNCTION_MIDDLEWARE = settings.MIDDLEWARE[:3] + ["bench.middleware.timing_middleware"] + settings.MIDDLEWARE[3:]

ROWS = [
    # key, label, path, middleware
    ("sync", "sync hello, 7 middleware", "/sync-hello/", settings.MIDDLEWARE),
    ("coro", "coroutine hello, 7 middleware", "/hello/", settings.MIDDLEWARE),
    ("sync_fn", "sync hello, 7 + function middleware", "/sync-hello/", FUNCTION_MIDDLEWARE),
    ("coro_fn", "coroutine hello, 7 + function middleware", "/hello/", FUNCTION_MIDDLEWARE),
]

RATIOS = [
    # label, numerator, denominator, target
    ("coroutine hello / sync hello", "coro", "sync", 1.0),
    ("coroutine hello + function mw / coroutine hello", "coro_fn", "coro", 0.9),
]


def environ_for(path):
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "delay=0",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def start_response(status, headers, exc_info=None):
    assert status.startswith("200"), status


async def one(application, path):
    body = await application(environ_for(path), start_response)
    await body.aclose()


async def measure(application, path, seconds, concurrency):
    """Requests per CPU-second of this process (all its threads): other load does not count."""
    done = 0
    started = time.process_time()
    deadline = started + seconds
    while time.process_time() < deadline:
        await asyncio.gather(*[one(application, path) for _ in range(concurrency)])
        done += concurrency
    return done / (time.process_time() - started)


def applications():
    built = {}
    for key, _, _, middleware in ROWS:
        with override_settings(MIDDLEWARE=middleware):
            built[key] = AsyncDjangoApplication()
    return built


def spread(values):
    return "%.2f [%.2f-%.2f]" % (statistics.median(values), min(values), max(values))


async def run(seconds, repeats, concurrency):
    apps = applications()
    rps = {key: [] for key, _, _, _ in ROWS}
    for _ in range(repeats):
        for key, _, path, _ in ROWS:
            await measure(apps[key], path, seconds / 4.0, concurrency)  # warm-up
            rps[key].append(await measure(apps[key], path, seconds, concurrency))
    return rps


def main():
    seconds = float(os.environ.get("BENCH_DURATION", "2"))
    repeats = int(os.environ.get("BENCH_REPEATS", "5"))
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "64"))
    print("in-process: %d repeats of %.1f CPU-s per row, %d requests at a time, Python %s"
          % (repeats, seconds, concurrency, sys.version.split()[0]))
    rps = asyncio.run(run(seconds, repeats, concurrency))
    for key, label, _, _ in ROWS:
        print("  %-46s %s req/CPU-s" % (label, spread(rps[key])))
    report_ratios(rps)


def report_ratios(rps):
    """Print each ratio per repeat (median [min-max]) against its target."""
    for label, numerator, denominator, target in RATIOS:
        ratios = [n / d for n, d in zip(rps[numerator], rps[denominator]) if d]
        verdict = "MET" if ratios and statistics.median(ratios) >= target else "MISSED"
        print("  %-50s %s  (target >= %.2f)  %s" % (label, spread(ratios), target, verdict))


if __name__ == "__main__":
    main()
