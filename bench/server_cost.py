"""What the server layer costs per request, deterministically: ``python -m bench.server_cost``.

For trivial apps (no Django): aiohttp's bare server (bench/bare_aiohttp.py)
and AiohttpWorker (or AiohttpUVLoopWorker) serving ``bench.wsgi_plain``'s
coroutine and sync hello. Each server gets sequential keep-alive requests
from one client connection, and is measured two ways:

* instructions per request, under ``valgrind --tool=callgrind``:
  ``(Ir(N2) - Ir(N1)) / (N2 - N1)``, Ir the whole serving process's
  instructions in a run (start, 50 + N requests, SIGTERM);
* Python calls per request (``bench/callcount.py``: ``call`` and
  ``c_call`` profile events, all threads).

For Django: ``django_common``, ``django_seven`` and ``django_function``
(``_uv``: on AiohttpUVLoopWorker) serve the trivial coroutine hello
(``/trivial-coroutine-hello/``, bench/views.py) behind make bench's stacks;
``stock_common`` and ``stock_seven`` are the floor's Django half, the stock
``WSGIHandler`` in process (``python -m bench.floor --serve``, no server,
no socket). With ``bare`` and a stock stack measured,
the floor by instructions (stock + bare) / served is printed for the
matching ``django_*`` row: make bench's floor ratio, without the noise of a
shared machine (but without what instructions miss: caches, the kernel).

Arguments: those names (default ``bare coroutine sync``);
``BENCH_N1``/``BENCH_N2`` (default 200/1200) requests;
``BENCH_NO_CALLGRIND=1`` skips the callgrind run; ``BENCH_CALLS_DETAIL=K``
prints the K most called functions.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from .harness import ROOT, STOCK_DJANGO_ENV, BareAiohttp, Gunicorn

SERVERS = {
    "bare": None,
    "coroutine": ("async_app.worker.AiohttpWorker", "bench.wsgi_plain:coroutine_application"),
    "sync": ("async_app.worker.AiohttpWorker", "bench.wsgi_plain:application"),
    "coroutine_uv": (
        "async_app.worker.AiohttpUVLoopWorker",
        "bench.wsgi_plain:coroutine_application",
    ),
    "sync_uv": ("async_app.worker.AiohttpUVLoopWorker", "bench.wsgi_plain:application"),
}
# The trivial coroutine hello through AsyncDjangoApplication (make bench's rows), on both workers.
for _suffix, _worker in (("", "AiohttpWorker"), ("_uv", "AiohttpUVLoopWorker")):
    for _name, _module in (
        ("common", "wsgi_async_common"),
        ("seven", "wsgi_async"),
        ("function", "wsgi_async_function"),
    ):
        SERVERS["django_" + _name + _suffix] = (
            "async_app.worker." + _worker,
            "bench.%s:application" % _module,
        )
REQUEST = (
    b"GET /trivial-coroutine-hello/?delay=0 HTTP/1.1\r\n"
    b"Host: 127.0.0.1\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"
)


class Client:
    """One keep-alive connection sending requests one after another."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def request(self):
        """Send one request, read its (Content-Length framed) response."""
        self.sock.sendall(REQUEST)
        while b"\r\n\r\n" not in self.buf:
            self._recv()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(self.buf) < length:
            self._recv()
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.decode("latin-1"))
        self.buf = self.buf[length:]

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise RuntimeError("connection closed")
        self.buf += data

    def close(self):
        """Close the connection."""
        self.sock.close()


# The floor's Django half (bench/floor.py's stacks), in process.
STOCK = {"stock_common": "common", "stock_seven": "seven"}
# As bench/run.py measures the floor (Django as it is), with the hash seed of start().
STOCK_ENV = dict(os.environ, PYTHONPATH=ROOT, PYTHONHASHSEED="0", **STOCK_DJANGO_ENV)


def _stock_argv(name, count):
    return [sys.executable, "-m", "bench.floor", "--serve", STOCK[name], str(count)]


class _CountedBare(BareAiohttp):
    """The bare server with :func:`bench.callcount.install` run first."""

    def argv(self, argv):
        """``-c``: install the counter, then ``bench.bare_aiohttp``'s main."""
        code = (
            "import sys\nimport bench.callcount; bench.callcount.install()\n"
            "sys.argv[1:] = [%r]\nimport bench.bare_aiohttp as b; b.main()\n" % str(self.port)
        )
        return ["-c", code]


def start(name, tmp, prefix=(), hook=None):
    """Start server ``name`` (a bench.harness server), ready for requests.

    ``hook``: a module whose ``post_worker_init`` the worker runs; of the
    bare server, only ``bench.callcount`` (installed before it starts).
    """
    env = {
        "BENCH_CALLCOUNT_FILE": os.path.join(tmp, "calls.json"),
        "BENCH_SAMPLE_FILE": os.path.join(tmp, "samples.json"),
        # One hash seed for every run: the N1 and N2 runs of a server then
        # start alike (dict probes and the type cache depend on it), and
        # their difference is the requests' (with random seeds it moved by
        # up to 1% at N2 - N1 = 200).
        "PYTHONHASHSEED": "0",
    }
    spec = SERVERS[name]
    if spec is None:
        if hook not in (None, "bench.callcount"):
            raise ValueError("%s is not a gunicorn server: no worker hook" % name)
        server = (_CountedBare if hook else BareAiohttp)(prefix=prefix, env=env)
    else:
        # Under valgrind a worker starts, and exits, tens of times slower.
        settings = {"worker_class": spec[0], "wsgi_app": spec[1], "threads": 32}
        settings.update(timeout=600, graceful_timeout=60)
        config = "from %s import post_worker_init\n" % hook if hook else ""
        server = Gunicorn(settings, config, prefix=prefix, env=env)
    try:
        # Connecting, not a request: every request the server answers is counted.
        server.wait_ready(None, timeout=300)
    except BaseException:
        server.stop()
        raise
    return server


def _total_ir(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError("no totals in %s" % path)


def _run_ir(name, n):
    """Total Ir of server ``name``'s serving process, started, given 50 + ``n`` requests, stopped."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.%p")
        prefix = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out]
        if name in STOCK:
            proc = subprocess.run(
                prefix + _stock_argv(name, 50 + n), cwd=ROOT, env=STOCK_ENV, stderr=subprocess.PIPE
            )
            if proc.returncode:
                raise RuntimeError(proc.stderr.decode("utf-8", "replace"))
            (path,) = [os.path.join(tmp, f) for f in os.listdir(tmp) if f.startswith("cg.")]
            return _total_ir(path)
        server = start(name, tmp, prefix)
        try:
            client = Client(server.port)
            for _ in range(50 + n):
                client.request()
            client.close()
            pid = server.serving_pid()
        finally:
            server.stop(timeout=120)
        return _total_ir(os.path.join(tmp, "cg.%d" % pid))


def instructions(name, n1, n2):
    """Instructions per request of server ``name`` under callgrind (two runs)."""
    return (_run_ir(name, n2) - _run_ir(name, n1)) / (n2 - n1)


_STOCK_CALLS = """
import json, sys
import bench.callcount as callcount, bench.floor as floor
floor.serve(sys.argv[1], 200)
print(json.dumps(callcount.count(lambda: floor.serve(sys.argv[1], int(sys.argv[2])))))
"""


def _stock_calls(name, n):
    argv = [sys.executable, "-c", _STOCK_CALLS, STOCK[name], str(n)]
    out = subprocess.run(argv, cwd=ROOT, env=STOCK_ENV, check=True, stdout=subprocess.PIPE).stdout
    return json.loads(out.decode().strip().splitlines()[-1])


def between_toggles(name, hook, filename, serve, warmup=200):
    """What ``hook`` (``bench.callcount``, ``bench.sample``) recorded while ``serve`` ran.

    Starts server ``name`` with the hook, gives it ``warmup`` requests, sends
    ``SIGUSR2`` (the hook starts), calls ``serve(client)`` (a
    :class:`Client`), sends ``SIGUSR2`` again (the hook writes ``filename``
    in the server's temporary directory) and returns the JSON read there.
    """
    with tempfile.TemporaryDirectory() as tmp:
        server = start(name, tmp, hook=hook)
        try:
            client = Client(server.port)
            for _ in range(warmup):
                client.request()
            # After the warm-up: the worker that answered has run the hook.
            pid = server.serving_pid()
            os.kill(pid, signal.SIGUSR2)
            time.sleep(0.2)
            serve(client)
            path = os.path.join(tmp, filename)
            os.kill(pid, signal.SIGUSR2)
            for _ in range(200):
                if os.path.exists(path):
                    break
                time.sleep(0.05)
            time.sleep(0.1)
            with open(path) as f:
                recorded = json.load(f)
            client.close()
        finally:
            server.stop()
    return recorded


def python_calls(name, n):
    """(Python calls, C calls) per request of server ``name``."""
    if name in STOCK:
        counts = _stock_calls(name, n)
        return counts["call"] / n, counts["c_call"] / n

    def serve(client):
        for _ in range(n):
            client.request()

    counts = between_toggles(name, "bench.callcount", "calls.json", serve)
    if os.environ.get("BENCH_CALLS_DETAIL"):
        top = sorted(counts["functions"].items(), key=lambda kv: -kv[1])
        for key, count in top[: int(os.environ["BENCH_CALLS_DETAIL"])]:
            print("    %6.2f %s" % (count / n, key))
    return counts["call"] / n, counts["c_call"] / n


def main():
    """Measure the servers named on the command line."""
    names = sys.argv[1:] or ["bare", "coroutine", "sync"]
    n1 = int(os.environ.get("BENCH_N1", "200"))
    n2 = int(os.environ.get("BENCH_N2", "1200"))
    callgrind = not os.environ.get("BENCH_NO_CALLGRIND")
    if callgrind and shutil.which("valgrind") is None:
        sys.exit("valgrind not found: apt-get install valgrind, or set BENCH_NO_CALLGRIND=1")
    print("| server | instructions/request | Python calls/request | C calls/request |")
    print("|---|---:|---:|---:|")
    measured = {}
    for name in names:
        calls, c_calls = python_calls(name, n2)
        ir = instructions(name, n1, n2) if callgrind else float("nan")
        measured[name] = ir
        print("| %s | %.0f | %.1f | %.1f |" % (name, ir, calls, c_calls), flush=True)
    for stock, stack in sorted(STOCK.items()):
        for served in ("django_" + stack, "django_%s_uv" % stack):
            if callgrind and {"bare", stock, served} <= set(measured):
                floor = measured[stock] + measured["bare"]
                print(
                    "floor by instructions, %s: (%s + bare) / %s = %.2f"
                    % (served, stock, served, floor / measured[served])
                )


if __name__ == "__main__":
    main()
