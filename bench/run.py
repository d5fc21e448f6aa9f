"""``make bench``: montage's views under async_app's worker, gunicorn's sync and gthread.

One run, one machine: every server is a single gunicorn worker pinned to
CPU 0 (``taskset``), the load generator (``wrk``) is pinned to CPU 1. The
views are montage's ``/hello/?delay=S`` (a coroutine view awaiting
``asyncio.sleep``) and its sync twin ``/sync-hello/?delay=S`` (``time.sleep``,
as blocking I/O), behind montage's full middleware stack:

* async_app's ``AiohttpWorker`` serves ``AsyncDjangoApplication``, coroutine view;
* gunicorn's ``sync`` and ``gthread`` (32 threads) serve Django's stock
  ``WSGIHandler``, sync view.

Printed: requests/s, p50/p99 latency, socket errors and non-2xx responses,
and the ratio to gthread, for a trivial view (``delay=0``) and a view waiting
100 ms at 500 and 1000 concurrent connections; then the targets.

Then the pipeline's own rows (``pipeline``): under AiohttpWorker, with the
same seven middleware, the coroutine hello against the sync hello, and the
coroutine hello with one function-style middleware added
(``bench/middleware.py``) against the plain one; ``BENCH_REPEATS`` (default
3) rounds in which the three servers take turns, each ratio computed within
a round, printed as median [min-max]. ``python -m bench.inprocess`` measures
the same without a server.

Environment: ``BENCH_DURATION`` (seconds per measurement, default 10),
``BENCH_WARMUP`` (default 2), ``BENCH_ONLY`` (comma-separated scenario keys:
trivial, io500, io1000, pipeline), ``BENCH_REPEATS``.
"""
import os
import re
import resource
import shutil
import signal
import statistics
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SERVERS = [
    # key, label, gunicorn settings, path prefix of the view it serves
    ("async_app", "async_app AiohttpWorker, coroutine view", {
        "worker_class": "async_app.worker.AiohttpWorker",
        "wsgi_app": "bench.wsgi_async:application",
        "threads": 32,
    }, "/hello/"),
    ("async_app_sync", "async_app AiohttpWorker, sync view", {
        "worker_class": "async_app.worker.AiohttpWorker",
        "wsgi_app": "bench.wsgi_async:application",
        "threads": 32,
    }, "/sync-hello/"),
    ("async_app_uvloop", "async_app AiohttpUVLoopWorker, coroutine view", {
        "worker_class": "async_app.worker.AiohttpUVLoopWorker",
        "wsgi_app": "bench.wsgi_async:application",
        "threads": 32,
    }, "/hello/"),
    ("async_app_function", "async_app AiohttpWorker, coroutine view, +function mw", {
        "worker_class": "async_app.worker.AiohttpWorker",
        "wsgi_app": "bench.wsgi_async_function:application",
        "threads": 32,
    }, "/hello/"),
    ("sync", "gunicorn sync, sync view", {
        "worker_class": "sync",
        "wsgi_app": "bench.wsgi_sync:application",
    }, "/sync-hello/"),
    ("gthread", "gunicorn gthread (32 threads), sync view", {
        "worker_class": "gthread",
        "wsgi_app": "bench.wsgi_sync:application",
        "threads": 32,
    }, "/sync-hello/"),
]

SCENARIOS = [
    # key, label, delay, connections, servers
    ("trivial", "trivial view, 50 connections", "0", 50,
     ["async_app", "async_app_uvloop", "async_app_sync", "sync", "gthread"]),
    ("io500", "100 ms I/O view, 500 connections", "0.1", 500,
     ["async_app", "async_app_uvloop", "sync", "gthread"]),
    ("io1000", "100 ms I/O view, 1000 connections", "0.1", 1000,
     ["async_app", "async_app_uvloop", "sync", "gthread"]),
]

COMMON_SETTINGS = {
    "workers": 1,
    "backlog": 4096,
    "worker_connections": 2000,
    "keepalive": 5,
    "timeout": 120,
    "graceful_timeout": 5,
    "loglevel": "warning",
    "control_socket_disable": True,
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(cpu, argv):
    """``argv`` pinned to ``cpu`` when taskset is available and the CPU exists."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > cpu:
        return ["taskset", "-c", str(cpu)] + argv
    return argv


class Server:
    """One gunicorn (one worker) on a free loopback port, pinned to CPU 0."""

    def __init__(self, settings):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="async_app-bench-")
        self.log_path = os.path.join(self.dir, "gunicorn.log")
        conf = dict(COMMON_SETTINGS, bind=["127.0.0.1:%d" % self.port], **settings)
        self.conf_path = os.path.join(self.dir, "gunicorn_conf.py")
        with open(self.conf_path, "w") as f:
            for name, value in sorted(conf.items()):
                f.write("%s = %r\n" % (name, value))
        env = dict(os.environ, PYTHONPATH=ROOT)
        env.pop("GUNICORN_CMD_ARGS", None)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            pinned(0, [sys.executable, "-m", "gunicorn", "-c", self.conf_path]),
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, path, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    s.sendall(("GET %s HTTP/1.0\r\n\r\n" % path).encode())
                    if s.recv(5) == b"HTTP/":
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start:\n" + open(self.log_path).read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def wrk(url, connections, duration):
    """Run wrk (pinned to CPU 1); return its parsed summary."""
    argv = pinned(1, ["wrk", "-t1", "-c%d" % connections, "-d%ds" % duration,
                      "--timeout", "5s", "--latency", url])
    out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True).stdout
    return parse_wrk(out)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def parse_wrk(out):
    """requests/s, p50/p99 (ms), socket errors and non-2xx/3xx from wrk's output."""
    result = {"rps": 0.0, "p50": float("nan"), "p99": float("nan"), "errors": 0,
              "non2xx": 0, "requests": 0, "raw": out}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        result["rps"] = float(m.group(1))
    for pct in ("50", "99"):
        m = re.search(r"^\s+%s%%\s+(\S+)" % pct, out, re.M)
        if m:
            result["p" + pct] = _ms(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        result["errors"] = sum(int(g) for g in m.groups())
        result["error_detail"] = "connect %s, read %s, write %s, timeout %s" % m.groups()
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        result["non2xx"] = int(m.group(1))
    m = re.search(r"(\d+) requests in", out)
    if m:
        result["requests"] = int(m.group(1))
    return result


def describe_machine():
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
    return ("Python %s, gunicorn %s, aiohttp %s, Django %s; %s CPUs (%s); %s"
            % (sys.version.split()[0], gunicorn.__version__, aiohttp.__version__,
               django.get_version(), os.cpu_count(), cpu,
               "server on CPU 0, wrk on CPU 1" if shutil.which("taskset")
               else "no taskset: not pinned"))


def main():
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (make bench installs Debian's wrk)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 8192 and (hard == resource.RLIM_INFINITY or hard >= 8192):
        resource.setrlimit(resource.RLIMIT_NOFILE, (8192, hard))
    duration = int(os.environ.get("BENCH_DURATION", "10"))
    warmup = int(os.environ.get("BENCH_WARMUP", "2"))
    only = [k for k in os.environ.get("BENCH_ONLY", "").split(",") if k]
    servers = {key: (label, settings, path) for key, label, settings, path in SERVERS}
    try:
        import uvloop  # noqa: F401
    except ImportError:
        print("(uvloop not installed: no AiohttpUVLoopWorker rows; pip install uvloop)")
        SCENARIOS[:] = [(k, l, d, c, [s for s in keys if s != "async_app_uvloop"])
                        for k, l, d, c, keys in SCENARIOS]

    print("async_app benchmark: " + describe_machine())
    print("each measurement: %ds of wrk after %ds of warm-up; one gunicorn worker per server\n"
          % (duration, warmup))
    results = {}
    for key, label, delay, connections, server_keys in SCENARIOS:
        if only and key not in only:
            continue
        print("%s (delay=%s):" % (label, delay))
        print("  %-44s %9s %9s %9s %8s %8s %10s" % (
            "server", "req/s", "p50 ms", "p99 ms", "sockerr", "non-2xx", "vs gthread"))
        rows = {}
        for server_key in server_keys:
            server_label, settings, path = servers[server_key]
            url_path = "%s?delay=%s" % (path, delay)
            server = Server(settings)
            try:
                server.wait_ready(url_path)
                url = "http://127.0.0.1:%d%s" % (server.port, url_path)
                if warmup:
                    # Warm the code paths without leaving a backlog of queued
                    # requests behind for the measurement to wait on.
                    wrk(url, min(connections, 20), warmup)
                    time.sleep(0.5)
                rows[server_key] = wrk(url, connections, duration)
            finally:
                server.stop()
        base = rows.get("gthread", {}).get("rps") or 0.0
        for server_key in server_keys:
            row = rows[server_key]
            ratio = "%.2fx" % (row["rps"] / base) if base else "-"
            print("  %-44s %9.1f %9.1f %9.1f %8d %8d %10s" % (
                servers[server_key][0], row["rps"], row["p50"], row["p99"],
                row["errors"], row["non2xx"], ratio))
        for server_key in server_keys:
            if not rows[server_key]["requests"]:
                print("  (%s: no request completed; wrk said:)\n    %s" % (
                    server_key, rows[server_key]["raw"].strip().replace("\n", "\n    ")))
        print()
        results[key] = rows

    if not only or "pipeline" in only:
        results["pipeline"] = pipeline_rows(servers, duration, warmup)

    print("Targets (one worker each, same run):")
    for worker_key in ("async_app", "async_app_uvloop"):
        name = servers[worker_key][0].split(",")[0]
        if "trivial" in results and worker_key in results["trivial"]:
            r = results["trivial"]
            ratio = r[worker_key]["rps"] / r["gthread"]["rps"] if r["gthread"]["rps"] else 0
            print("  %s: trivial coroutine view >= 1.2x gthread's sync view: %.2fx  %s"
                  % (name, ratio, "MET" if ratio >= 1.2 else "MISSED"))
        if "io1000" in results and worker_key in results["io1000"]:
            r = results["io1000"]
            ratio = r[worker_key]["rps"] / r["gthread"]["rps"] if r["gthread"]["rps"] else 0
            errors = r[worker_key]["errors"] + r[worker_key]["non2xx"]
            print("  %s: 100 ms view at 1000 connections >= 10x gthread, no socket errors: "
                  "%.2fx, %d errors  %s" % (name, ratio, errors,
                                             "MET" if ratio >= 10 and not errors else "MISSED"))
    if "pipeline" in results:
        for label, ratios, target in results["pipeline"]:
            print("  %s >= %.2f: %s  %s" % (label, target, spread(ratios),
                                          "MET" if statistics.median(ratios) >= target else "MISSED"))


PIPELINE_CONNECTIONS = 64
PIPELINE_RATIOS = [
    # label, numerator server, denominator server, target
    ("coroutine hello / sync hello", "async_app", "async_app_sync", 1.0),
    ("coroutine hello + function middleware / coroutine hello", "async_app_function", "async_app", 0.9),
]


def spread(values):
    return "%.2f [%.2f-%.2f]" % (statistics.median(values), min(values), max(values))


def worker_cpu_seconds(master_pid):
    """CPU time (user + system) used so far by the children of ``master_pid`` (Linux /proc)."""
    total = 0.0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == master_pid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def measure_once(settings, path, duration, warmup):
    """One server, one wrk run: its result plus ``cpu_rps``, requests per CPU-second of the worker."""
    server = Server(settings)
    try:
        server.wait_ready(path)
        url = "http://127.0.0.1:%d%s" % (server.port, path)
        if warmup:
            wrk(url, 20, warmup)
            time.sleep(0.5)
        cpu = worker_cpu_seconds(server.proc.pid)
        result = wrk(url, PIPELINE_CONNECTIONS, duration)
        cpu = worker_cpu_seconds(server.proc.pid) - cpu
        result["cpu_rps"] = result["requests"] / cpu if cpu > 0 else 0.0
        return result
    finally:
        server.stop()


def pipeline_rows(servers, duration, warmup):
    """The pipeline's rows: servers take turns in each round; ratios within a round."""
    repeats = int(os.environ.get("BENCH_REPEATS", "3"))
    keys = ["async_app_sync", "async_app", "async_app_function"]
    measured = {key: [] for key in keys}
    print("pipeline: trivial view, %d connections, %d rounds (delay=0); req/s, and requests per"
          " CPU-second of the worker (what a worker with a CPU to itself would serve):"
          % (PIPELINE_CONNECTIONS, repeats))
    for _ in range(repeats):
        for key in keys:
            _, settings, path = servers[key]
            measured[key].append(measure_once(settings, path + "?delay=0", duration, warmup))
    for key in keys:
        print("  %-56s %s req/s, %s req/CPU-s" % (
            servers[key][0], spread([m["rps"] for m in measured[key]]),
            spread([m["cpu_rps"] for m in measured[key]])))
    rows = []
    for label, numerator, denominator, target in PIPELINE_RATIOS:
        for unit in ("rps", "cpu_rps"):
            ratios = [n[unit] / d[unit] for n, d in zip(measured[numerator], measured[denominator])
                      if d[unit]]
            name = "%s (%s)" % (label, "req/s" if unit == "rps" else "req/CPU-s")
            print("  %-56s %s" % (name, spread(ratios or [0.0])))
            rows.append((name, ratios or [0.0], target))
    print()
    return rows


if __name__ == "__main__":
    main()
