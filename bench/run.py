"""``make bench``: every goal of issue 15 as a ratio to its floor or peer, in one run.

One machine, one run: every server is one process (one gunicorn worker, or
aiohttp's bare server) pinned to CPU 0, ``wrk`` is pinned to CPU 1. The floor
is measured in the same run: Django 1.11's stock ``WSGIHandler`` called in
process (``bench/floor.py``: CPU µs per request of the trivial sync hello,
behind ``CommonMiddleware`` only and behind montage's seven middleware) plus
aiohttp's bare hello (``bench/bare_aiohttp.py``: µs = 1e6 / its req/s);
floor req/s = 1e6 / (Django µs + aiohttp µs). The rows (``bench/rows.py``)
compare ``AiohttpWorker`` / ``AiohttpUVLoopWorker`` + ``AsyncDjangoApplication``
with the floor, with each other and with gunicorn's ``gthread``.

``BENCH_REPEATS`` rounds (default 3): in each round every server is started,
then takes ``BENCH_SLICES`` (default 4) turns of ``BENCH_DURATION /
BENCH_SLICES`` seconds, interleaved with the others' (and with the Django
floor's), so both sides of a ratio see the machine's changing speed alike;
every ratio is computed within the round; printed as median
[min-max], by req/s and by requests per CPU-second of the serving process.
The goal's MET / MISSED reads the req/s median. Then the memory per open
connection (RSS with 1,000 idle keep-alive connections, once per round).

Environment: ``BENCH_DURATION`` (seconds per measurement, default 8),
``BENCH_WARMUP`` (default 2), ``BENCH_REPEATS`` (default 3), ``BENCH_ONLY``
(comma-separated: common, seven, sync, function, io1000, wsgi, memory;
trivial = common,seven and pipeline = sync,function), ``BENCH_DOCS=1`` (or
``--docs``): rewrite the generated section of docs/benchmarks.md.
"""

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

from . import report
from .harness import (
    ROOT,
    STOCK_DJANGO_ENV,
    BareAiohttp,
    Gunicorn,
    cpu_seconds,
    hold_connections,
    open_fds,
)
from .harness import pinned, rss_kb, wrk
from .rows import MEASUREMENTS, MEMORY, needed, selected

MEMORY_CONNECTIONS = 1000
DOCS_PAGE = os.path.join(ROOT, "docs", "benchmarks.md")
KNOBS = ("BENCH_DURATION", "BENCH_WARMUP", "BENCH_REPEATS", "BENCH_SLICES", "BENCH_ONLY")


def start(key):
    """Start the server of measurement ``key``."""
    _, kind, settings, _, _ = MEASUREMENTS[key]
    return BareAiohttp(settings) if kind == "bare" else Gunicorn(settings)


def start_warm(key, warmup):
    """Start the server of measurement ``key``, wait for it, warm its code paths."""
    _, _, _, path, connections = MEASUREMENTS[key]
    server = start(key)
    try:
        server.wait_ready(path)
        if warmup:
            # Warm the code paths without leaving a backlog of queued
            # requests behind for the measurement to wait on.
            wrk(server.url(path), min(connections, 20), warmup)
    except BaseException:
        server.stop()
        raise
    return server


def load(server, key, seconds):
    """One wrk run of ``seconds`` against ``server``: wrk's summary and the server's CPU seconds."""
    _, _, _, path, connections = MEASUREMENTS[key]
    pid = server.serving_pid()
    cpu = cpu_seconds(pid)
    result = wrk(server.url(path), connections, seconds)
    result["cpu"] = cpu_seconds(pid) - cpu
    result["seconds"] = result["elapsed"] or seconds
    return result


def combine(key, slices):
    """A measurement from its slices: req/s and req/CPU-s over all of them, the worst p99."""
    requests = sum(m["requests"] for m in slices)
    seconds = sum(m["seconds"] for m in slices)
    cpu = sum(m["cpu"] for m in slices)
    result = {
        "rps": requests / seconds if seconds else 0.0,
        "cpu_rps": requests / cpu if cpu > 0 else 0.0,
        "p99": max(m["p99"] for m in slices),
        "errors": sum(m["errors"] for m in slices),
        "non2xx": sum(m["non2xx"] for m in slices),
        "requests": requests,
    }
    if not requests:
        # Its rows read 0 (MISSED); the run goes on.
        print(
            "(%s: no request completed; wrk said:)\n    %s"
            % (key, slices[-1]["raw"].strip().replace("\n", "\n    ")),
            flush=True,
        )
    return result


def django_floor(seconds):
    """Django's stock handler in process, pinned to CPU 0: ``{stack: CPU µs per request}``."""
    env = dict(os.environ, PYTHONPATH=ROOT, **STOCK_DJANGO_ENV)
    out = subprocess.run(
        pinned(0, [sys.executable, "-m", "bench.floor", str(seconds)]),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        check=True,
        universal_newlines=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def memory_once(settings, path, warmup):
    """Worker RSS before and with MEMORY_CONNECTIONS idle keep-alive connections."""
    server = Gunicorn(dict(settings, keepalive=300))
    try:
        server.wait_ready(path)
        if warmup:
            wrk(server.url(path), 20, warmup)
        time.sleep(0.5)
        pid = server.serving_pid()
        before, fds = rss_kb(pid), open_fds(pid)
        held = hold_connections(server.port, path, MEMORY_CONNECTIONS)
        try:
            time.sleep(0.5)
            after, held_fds = rss_kb(pid), open_fds(pid) - fds
        finally:
            for s in held:
                s.close()
        return {
            "before_kb": before,
            "per_connection_kb": (after - before) / MEMORY_CONNECTIONS,
            "fds": held_fds,
        }
    finally:
        server.stop()


def describe_machine():
    """Python, library versions, CPUs and pinning: the page's machine line."""
    import aiohttp
    import django
    import gunicorn

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import uvloop

        loop = ", uvloop %s" % uvloop.__version__
    except ImportError:
        loop = ", no uvloop"
    return (
        "Python %s, gunicorn %s, aiohttp %s%s, Django %s; %s CPUs (%s); load average %s "
        "at the start; %s"
        % (
            sys.version.split()[0],
            gunicorn.__version__,
            aiohttp.__version__,
            loop,
            django.get_version(),
            os.cpu_count(),
            cpu,
            " ".join("%.1f" % x for x in os.getloadavg()),
            "servers on CPU 0, wrk on CPU 1"
            if shutil.which("taskset")
            else "no taskset: not pinned",
        )
    )


def command():
    """The command that reproduces this run."""
    knobs = ["%s=%s" % (k, os.environ[k]) for k in KNOBS if os.environ.get(k)]
    return " ".join(knobs + ["make bench"])


def measure_round(keys, floor, duration, warmup, slices):
    """One round: every server started and warmed, then ``slices`` turns of each.

    In each turn every server gets ``duration / slices`` seconds of wrk (and
    the Django floor its share of CPU time), so the two sides of a ratio are
    measured moments apart, again and again, and a shared machine's changing
    speed weighs on both alike. ``{key: measurement, "django": {stack: µs}}``.
    """
    servers = {}
    try:
        for key in keys:
            servers[key] = start_warm(key, warmup)
        time.sleep(0.5)
        loads = {key: [] for key in keys}
        django = []
        for _ in range(slices):
            if floor:
                django.append(django_floor(max(0.5, duration / (4.0 * slices))))
            for key in keys:
                loads[key].append(load(servers[key], key, max(1, round(duration / slices))))
    finally:
        for server in servers.values():
            server.stop()
    round_ = {key: combine(key, loads[key]) for key in keys}
    if floor:
        round_["django"] = {
            stack: statistics.mean(sample[stack] for sample in django) for stack in django[0]
        }
    return round_


def run(only, duration, warmup, repeats, uvloop, slices=4):
    """Measure ``repeats`` rounds; the rows, the rounds, the measurement keys, the memory."""
    keys, rows = selected(only, uvloop)
    measurement_keys, floor = needed(rows)
    rounds = []
    memory = (
        [(name, []) for name, _, _ in MEMORY if uvloop or "UVLoop" not in name]
        if "memory" in keys
        else []
    )
    for n in range(repeats):
        round_ = measure_round(measurement_keys, floor, duration, warmup, slices)
        if floor:
            print(
                "round %d/%d: Django in process: %s"
                % (
                    n + 1,
                    repeats,
                    ", ".join("%s %.0f us" % item for item in sorted(round_["django"].items())),
                ),
                flush=True,
            )
        for key in measurement_keys:
            m = round_[key]
            print(
                "round %d/%d: %-58s %8.0f req/s %8.0f req/CPU-s%s"
                % (
                    n + 1,
                    repeats,
                    MEASUREMENTS[key][0],
                    m["rps"],
                    m["cpu_rps"],
                    "  (%d socket errors, %d non-2xx)" % (m["errors"], m["non2xx"])
                    if m["errors"] or m["non2xx"]
                    else "",
                ),
                flush=True,
            )
        for name, results in memory:
            settings, path = [(s, p) for w, s, p in MEMORY if w == name][0]
            results.append(memory_once(settings, path, warmup))
            print(
                "round %d/%d: memory %-51s %.1f KiB per open connection"
                % (n + 1, repeats, name, results[-1]["per_connection_kb"]),
                flush=True,
            )
        rounds.append(round_)
    return rows, rounds, measurement_keys, memory


def main(argv=None):
    """Measure, print the tables, and with ``BENCH_DOCS=1`` / ``--docs`` rewrite the page."""
    argv = sys.argv[1:] if argv is None else argv
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (make bench installs Debian's wrk)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 8192 and (hard == resource.RLIM_INFINITY or hard >= 8192):
        resource.setrlimit(resource.RLIMIT_NOFILE, (8192, hard))
    duration = int(os.environ.get("BENCH_DURATION", "8"))
    warmup = int(os.environ.get("BENCH_WARMUP", "2"))
    repeats = int(os.environ.get("BENCH_REPEATS", "3"))
    slices = max(1, int(os.environ.get("BENCH_SLICES", "4")))
    only = [k for k in os.environ.get("BENCH_ONLY", "").split(",") if k]
    docs = os.environ.get("BENCH_DOCS") == "1" or "--docs" in argv
    try:
        import uvloop  # noqa: F401

        has_uvloop = True
    except ImportError:
        has_uvloop = False
        print("(uvloop not installed: no AiohttpUVLoopWorker rows; pip install uvloop)")
    try:
        selected(only, has_uvloop)
    except ValueError as e:
        sys.exit(str(e))

    machine = describe_machine()
    print("async_app benchmark: " + machine)
    print(
        "each measurement: %ds of wrk in %d interleaved slices after %ds of warm-up; %d rounds\n"
        % (duration, slices, warmup, repeats),
        flush=True,
    )
    started = time.monotonic()
    rows, rounds, keys, memory = run(only, duration, warmup, repeats, has_uvloop, slices)
    tables = []
    if rows:
        tables += [
            "Goals (ratios within a round; MET/MISSED by the req/s median):",
            "",
            report.goal_table(rounds, rows),
            "",
        ]
    if rounds and "django" in rounds[0]:
        tables += [
            "The floor (floor req/s = 1e6 / (Django µs + aiohttp µs)):",
            "",
            report.floor_table(rounds),
            "",
        ]
    if keys:
        tables += [
            "Measurements (median [min-max] over the rounds):",
            "",
            report.measurement_table(rounds, keys),
            "",
        ]
    if memory:
        tables += [
            "Memory per open connection (worker RSS with %d idle keep-alive connections"
            " minus before, each made one request):" % MEMORY_CONNECTIONS,
            "",
            report.memory_table(memory),
            "",
        ]
    elapsed = time.monotonic() - started
    print("\n" + "\n".join(tables))
    print("(%d rounds in %.0f s)" % (repeats, elapsed))
    if docs:
        section = "\n".join(
            [
                "Command: `%s` (with `BENCH_DOCS=1`, this section is rewritten)." % command(),
                "",
                "Machine: %s." % machine,
                "",
                "Each measurement: %d s of wrk in %d slices interleaved with the round's other"
                " servers, after %d s of warm-up; %d rounds, %.0f s."
                % (duration, slices, warmup, repeats, elapsed),
                "",
            ]
            + tables
        )
        with open(DOCS_PAGE) as f:
            text = f.read()
        with open(DOCS_PAGE, "w") as f:
            f.write(report.rewrite_section(text, section))
        print("rewrote the generated section of %s" % os.path.relpath(DOCS_PAGE, ROOT))


if __name__ == "__main__":
    main()
