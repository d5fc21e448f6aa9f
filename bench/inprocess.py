"""In-process harness: the pipeline's own cost per request, without a server or a socket.

``python -m bench.inprocess`` awaits ``AsyncDjangoApplication(environ,
start_response)`` for ``/trivial-coroutine-hello/?delay=0`` (coroutine view)
and ``/trivial-hello/?delay=0`` (its sync twin, the floor's view), make
bench's trivial views (``bench/views.py``), behind the benchmark's middleware
stack (montage's seven ``MiddlewareMixin``), with and without one
function-style middleware, and the coroutine hello behind ``CommonMiddleware``
only, ``BENCH_CONCURRENCY`` (default 64) requests at a time; and, as the
second view of the floor, Django 1.11's stock ``WSGIHandler`` called directly
for the trivial hello (the floor's view) behind the same two stacks (``bench/floor.py``, one
request at a time; in this process, so with :mod:`async_app.speedups`, unlike
the floor of ``make bench``). Rows alternate within each of ``BENCH_REPEATS`` (default
5) repeats; printed: requests per CPU-second of the process (median and
spread; CPU time, so the other load of a shared machine counts little) and
the ratios of the same run. Against the stock handler there is no goal: no
server's cost is in either side.
"""

import asyncio
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
from bench import floor  # noqa: E402

FUNCTION_MIDDLEWARE = (
    settings.MIDDLEWARE[:3] + ["bench.middleware.timing_middleware"] + settings.MIDDLEWARE[3:]
)

COMMON = ["django.middleware.common.CommonMiddleware"]
COROUTINE_HELLO = "/trivial-coroutine-hello/"
SYNC_HELLO = "/trivial-hello/"

ROWS = [
    # key, label, path, middleware
    ("coro_common", "coroutine hello, CommonMiddleware", COROUTINE_HELLO, COMMON),
    ("sync", "sync hello, 7 middleware", SYNC_HELLO, settings.MIDDLEWARE),
    ("coro", "coroutine hello, 7 middleware", COROUTINE_HELLO, settings.MIDDLEWARE),
    ("sync_fn", "sync hello, 7 + function middleware", SYNC_HELLO, FUNCTION_MIDDLEWARE),
    ("coro_fn", "coroutine hello, 7 + function middleware", COROUTINE_HELLO, FUNCTION_MIDDLEWARE),
]

# Django's stock WSGIHandler (bench/floor.py): key, label, middleware
STOCK_ROWS = [
    ("stock_common", "Django stock WSGIHandler trivial hello, CommonMiddleware", COMMON),
    ("stock", "Django stock WSGIHandler trivial hello, 7 middleware", settings.MIDDLEWARE),
]

RATIOS = [
    # label, numerator, denominator, target (None: no goal)
    ("coroutine hello / sync hello", "coro", "sync", 1.0),
    ("coroutine hello + function mw / coroutine hello", "coro_fn", "coro", 0.9),
    ("coroutine hello / stock handler, CommonMiddleware", "coro_common", "stock_common", None),
    ("coroutine hello / stock handler, 7 middleware", "coro", "stock", None),
    ("sync hello / stock handler, 7 middleware", "sync", "stock", None),
]


environ_for = floor.environ_for


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
    stock = {key: floor.stock_handler(middleware) for key, _, middleware in STOCK_ROWS}
    rps = {key: [] for key in list(apps) + list(stock)}
    for _ in range(repeats):
        for key, _, path, _ in ROWS:
            await measure(apps[key], path, seconds / 4.0, concurrency)  # warm-up
            rps[key].append(await measure(apps[key], path, seconds, concurrency))
        for key, _, _ in STOCK_ROWS:
            floor.cpu_us_per_request(stock[key], seconds / 4.0)  # warm-up
            rps[key].append(1e6 / floor.cpu_us_per_request(stock[key], seconds))
    return rps


def main():
    seconds = float(os.environ.get("BENCH_DURATION", "2"))
    repeats = int(os.environ.get("BENCH_REPEATS", "5"))
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "64"))
    print(
        "in-process: %d repeats of %.1f CPU-s per row, %d requests at a time, Python %s"
        % (repeats, seconds, concurrency, sys.version.split()[0])
    )
    rps = asyncio.run(run(seconds, repeats, concurrency))
    for key, label in [row[:2] for row in ROWS + STOCK_ROWS]:
        print("  %-54s %s req/CPU-s" % (label, spread(rps[key])))
    report_ratios(rps)


def report_ratios(rps):
    """Print each ratio per repeat (median [min-max]) against its target."""
    for label, numerator, denominator, target in RATIOS:
        ratios = [n / d for n, d in zip(rps[numerator], rps[denominator]) if d]
        if target is None:
            print("  %-54s %s  (no goal)" % (label, spread(ratios)))
            continue
        verdict = "MET" if ratios and statistics.median(ratios) >= target else "MISSED"
        print("  %-54s %s  (target >= %.2f)  %s" % (label, spread(ratios), target, verdict))


if __name__ == "__main__":
    main()
