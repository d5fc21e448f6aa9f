"""What ``make bench`` measures (servers) and the goal rows it prints (issue 15).

Every measurement is one server under wrk; every row is a ratio of two
measurements of the same round (or of one and a floor computed in that
round), against its goal. ``ratios`` turns a round's measurements into the
rows' ratios; ``verdict`` says MET or MISSED.
"""

import statistics

ASYNC = "async_app.worker.AiohttpWorker"
UVLOOP = "async_app.worker.AiohttpUVLoopWorker"
TRIVIAL_CONNECTIONS = 50
IO_CONNECTIONS = 1000

# key: (label, kind, settings or delay, path, connections). kind "gunicorn"
# (one worker) or "bare" (bench/bare_aiohttp.py with that delay).
MEASUREMENTS = {}


def _gunicorn(key, label, worker, app, path, connections=TRIVIAL_CONNECTIONS, threads=32):
    MEASUREMENTS[key] = (
        label,
        "gunicorn",
        {"worker_class": worker, "wsgi_app": app, "threads": threads},
        path,
        connections,
    )


MEASUREMENTS["bare"] = ("bare aiohttp hello", "bare", 0.0, "/", TRIVIAL_CONNECTIONS)
MEASUREMENTS["bare_io"] = ("bare aiohttp, 100 ms sleep", "bare", 0.1, "/", IO_CONNECTIONS)
for suffix, worker, name in (("", ASYNC, "AiohttpWorker"), ("_uv", UVLOOP, "AiohttpUVLoopWorker")):
    _gunicorn(
        "common" + suffix,
        "%s coroutine hello, CommonMiddleware" % name,
        worker,
        "bench.wsgi_async_common:application",
        "/trivial-coroutine-hello/?delay=0",
    )
    _gunicorn(
        "seven" + suffix,
        "%s coroutine hello, 7 middleware" % name,
        worker,
        "bench.wsgi_async:application",
        "/trivial-coroutine-hello/?delay=0",
    )
    _gunicorn(
        "sync" + suffix,
        "%s sync hello, 7 middleware" % name,
        worker,
        "bench.wsgi_async:application",
        "/trivial-hello/?delay=0",
    )
    _gunicorn(
        "function" + suffix,
        "%s coroutine hello, 7 + function middleware" % name,
        worker,
        "bench.wsgi_async_function:application",
        "/trivial-coroutine-hello/?delay=0",
    )
    # Behind CommonMiddleware: at 1000 connections the row is bound by the
    # CPU a request costs, so behind the seven it measured row 2 again
    # (docs/benchmarks.md).
    _gunicorn(
        "io" + suffix,
        "%s 100 ms coroutine view, CommonMiddleware" % name,
        worker,
        "bench.wsgi_async_common:application",
        "/hello/?delay=0.1",
        IO_CONNECTIONS,
    )
    _gunicorn(
        "plain" + suffix, "%s plain WSGI hello" % name, worker, "bench.wsgi_plain:application", "/"
    )
_gunicorn(
    "gthread_sync",
    "gthread (32 threads) sync hello, 7 middleware",
    "gthread",
    "bench.wsgi_sync:application",
    "/trivial-hello/?delay=0",
)
_gunicorn(
    "gthread_plain",
    "gthread (32 threads) plain WSGI hello",
    "gthread",
    "bench.wsgi_plain:application",
    "/",
)

# The order the servers take turns in within a round: each row's two sides close in time.
ORDER = [
    "bare",
    "common",
    "common_uv",
    "seven",
    "seven_uv",
    "sync",
    "sync_uv",
    "function",
    "function_uv",
    "bare_io",
    "io",
    "io_uv",
    "gthread_sync",
    "plain",
    "plain_uv",
    "gthread_plain",
]

# The floors: Django's stock handler in process (bench/floor.py, CPU µs) plus
# bare aiohttp's hello (µs = 1e6 / its req/s).
FLOORS = {"floor_common": "common", "floor_seven": "seven"}
FLOOR_LABELS = {
    "floor_common": "floor: Django + CommonMiddleware in process + bare aiohttp",
    "floor_seven": "floor: Django + 7 middleware in process + bare aiohttp",
}

# scenario key (BENCH_ONLY), row label, numerator, denominator, goal, strict (> instead of >=)
ROWS = []
for suffix, name in (("", "asyncio"), ("_uv", "uvloop")):
    ROWS += [
        (
            "common",
            "coroutine hello, CommonMiddleware / floor (%s)" % name,
            "common" + suffix,
            "floor_common",
            0.8,
            False,
        ),
        (
            "seven",
            "coroutine hello, 7 middleware / floor (%s)" % name,
            "seven" + suffix,
            "floor_seven",
            0.8,
            False,
        ),
        (
            "sync",
            "coroutine hello / sync hello, 7 middleware (%s)" % name,
            "seven" + suffix,
            "sync" + suffix,
            1.0,
            False,
        ),
        (
            "function",
            "+ one function middleware / without (%s)" % name,
            "function" + suffix,
            "seven" + suffix,
            0.9,
            False,
        ),
        (
            "io1000",
            "100 ms view, 1000 conns / bare aiohttp (%s)" % name,
            "io" + suffix,
            "bare_io",
            0.7,
            False,
        ),
    ]
for key, label in (
    ("common", "coroutine hello, CommonMiddleware"),
    ("seven", "coroutine hello, 7 middleware"),
    ("sync", "sync hello, 7 middleware"),
    ("function", "coroutine hello, 7 + function middleware"),
    ("io", "100 ms view, 1000 conns"),
    ("plain", "plain WSGI hello"),
):
    scenario = {"io": "io1000", "plain": "wsgi"}.get(key, key)
    ROWS.append((scenario, "uvloop / asyncio worker: %s" % label, key + "_uv", key, 1.0, False))
for suffix, name in (("", "AiohttpWorker"), ("_uv", "AiohttpUVLoopWorker")):
    ROWS += [
        (
            "wsgi",
            "sync hello, 7 middleware: %s / gthread" % name,
            "sync" + suffix,
            "gthread_sync",
            1.0,
            True,
        ),
        (
            "wsgi",
            "plain WSGI hello: %s / gthread" % name,
            "plain" + suffix,
            "gthread_plain",
            1.0,
            True,
        ),
    ]

SCENARIOS = ["common", "seven", "sync", "function", "io1000", "wsgi", "memory"]
ALIASES = {"trivial": ["common", "seven"], "pipeline": ["sync", "function"]}

# Memory per open connection: worker, app, path (each idle connection made one request).
MEMORY = [
    (
        "AiohttpWorker",
        {"worker_class": ASYNC, "wsgi_app": "bench.wsgi_async:application", "threads": 32},
        "/hello/?delay=0",
    ),
    (
        "AiohttpUVLoopWorker",
        {"worker_class": UVLOOP, "wsgi_app": "bench.wsgi_async:application", "threads": 32},
        "/hello/?delay=0",
    ),
    (
        "gthread (32 threads)",
        {"worker_class": "gthread", "wsgi_app": "bench.wsgi_sync:application", "threads": 32},
        "/sync-hello/?delay=0",
    ),
]


def selected(only, uvloop):
    """The scenario keys and rows for ``BENCH_ONLY`` (a list of keys; empty: all)."""
    keys = []
    for key in only or SCENARIOS:
        for k in ALIASES.get(key, [key]):
            if k not in SCENARIOS:
                raise ValueError(
                    "unknown BENCH_ONLY key %r (known: %s)"
                    % (key, ", ".join(SCENARIOS + sorted(ALIASES)))
                )
            if k not in keys:
                keys.append(k)
    rows = [
        row
        for row in ROWS
        if row[0] in keys and (uvloop or not (row[2].endswith("_uv") or row[3].endswith("_uv")))
    ]
    return keys, rows


def needed(rows):
    """The measurements (in ORDER) the rows need, and whether the Django floor is needed."""
    sides = set()
    for _, _, numerator, denominator, _, _ in rows:
        sides.update((numerator, denominator))
    floor = bool(sides & set(FLOORS))
    if floor:
        sides.add("bare")
    return [key for key in ORDER if key in sides], floor


def side_values(round_, side):
    """``(req/s, req/CPU-s)`` of one side of a row in a round (a measurement or a floor)."""
    if side in FLOORS:
        django_us = round_["django"][FLOORS[side]]
        bare = round_["bare"]
        rps = 1e6 / (django_us + 1e6 / bare["rps"]) if bare["rps"] else 0.0
        cpu = 1e6 / (django_us + 1e6 / bare["cpu_rps"]) if bare["cpu_rps"] else 0.0
        return rps, cpu
    return round_[side]["rps"], round_[side]["cpu_rps"]


def ratios(rounds, row):
    """The row's per-round values: ours, theirs and the ratios, by req/s and by req/CPU-s."""
    _, _, numerator, denominator, _, _ = row
    out = {"ours": [], "theirs": [], "ours_cpu": [], "theirs_cpu": [], "ratio": [], "ratio_cpu": []}
    for round_ in rounds:
        ours, ours_cpu = side_values(round_, numerator)
        theirs, theirs_cpu = side_values(round_, denominator)
        out["ours"].append(ours)
        out["theirs"].append(theirs)
        out["ours_cpu"].append(ours_cpu)
        out["theirs_cpu"].append(theirs_cpu)
        out["ratio"].append(ours / theirs if theirs else 0.0)
        out["ratio_cpu"].append(ours_cpu / theirs_cpu if theirs_cpu else 0.0)
    return out


def verdict(values, goal, strict=False):
    """MET when the median of ``values`` reaches ``goal`` (exceeds it when ``strict``)."""
    median = statistics.median(values)
    return "MET" if (median > goal if strict else median >= goal) else "MISSED"


def spread(values, fmt="%.2f"):
    """``median [min-max]`` of ``values``."""
    return (fmt + " [" + fmt + "-" + fmt + "]") % (
        statistics.median(values),
        min(values),
        max(values),
    )
