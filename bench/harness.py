"""What ``bench/run.py`` measures with: servers pinned to CPU 0, wrk on CPU 1, /proc.

A server is one process tree listening on a free loopback port: one gunicorn
with one worker (:class:`Gunicorn`), or aiohttp's bare server
(:class:`BareAiohttp`, ``bench/bare_aiohttp.py``). :func:`wrk` loads it and
:func:`parse_wrk` reads wrk's summary; :func:`cpu_seconds` and
:func:`rss_kb` read the serving process from ``/proc``;
:func:`hold_connections` opens keep-alive connections that each made one
request and stay open.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# How the floor's Django half (bench/floor.py) runs: Django 1.11 as it is,
# with only the compat layer that lets it run on this Python; neither the
# Django 5.2 backports (which wrap, for instance, Signal.send) nor
# async_app's speedups of Django's own code.
STOCK_DJANGO_ENV = {"ASYNC_APP_DJANGO5_API": "0", "ASYNC_APP_SPEEDUPS": "0"}

GUNICORN_SETTINGS = {
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
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(cpu, argv):
    """``argv`` pinned to ``cpu`` when taskset is available and the CPU exists."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > cpu:
        return ["taskset", "-c", str(cpu)] + argv
    return argv


class Server:
    """A process serving HTTP on a free loopback port, pinned to CPU 0."""

    def __init__(self, argv, prefix=(), env=None):
        """``prefix``: a command that runs the interpreter (valgrind); ``env``: added variables."""
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="async_app-bench-")
        self.log_path = os.path.join(self.dir, "server.log")
        env = dict(os.environ, PYTHONPATH=ROOT, **(env or {}))
        env.pop("GUNICORN_CMD_ARGS", None)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            pinned(0, list(prefix) + [sys.executable] + self.argv(argv)),
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def argv(self, argv):
        """The interpreter's arguments that start the server (subclasses build them)."""
        return argv

    def url(self, path):
        """The server's URL for ``path``."""
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def serving_pid(self):
        """The pid of the process that serves requests."""
        return self.proc.pid

    def wait_ready(self, path, timeout=30):
        """Return once ``path`` answers (``None``: once the port accepts); RuntimeError if it died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    if path is None:
                        return
                    s.sendall(("GET %s HTTP/1.0\r\n\r\n" % path).encode())
                    if s.recv(5) == b"HTTP/":
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start:\n" + open(self.log_path).read())

    def stop(self, timeout=15):
        """SIGTERM (SIGKILL after ``timeout`` seconds), then remove the temporary directory."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Gunicorn(Server):
    """One gunicorn master with one worker; ``settings`` are gunicorn's.

    ``config``: more lines of the config file (a server hook imported by name).
    """

    def __init__(self, settings, config="", **kwargs):
        self.settings = settings
        self.config = config
        super().__init__(None, **kwargs)

    def argv(self, argv):
        """``-m gunicorn -c`` a config file holding the settings and the port."""
        conf = dict(GUNICORN_SETTINGS, bind=["127.0.0.1:%d" % self.port], **self.settings)
        conf_path = os.path.join(self.dir, "gunicorn_conf.py")
        with open(conf_path, "w") as f:
            for name, value in sorted(conf.items()):
                f.write("%s = %r\n" % (name, value))
            f.write(self.config)
        return ["-m", "gunicorn", "-c", conf_path]

    def serving_pid(self, timeout=30):
        """The pid of the one worker, once the master has forked it.

        The master listens before it forks: a server that accepts
        connections may not have its worker yet.
        """
        deadline = time.monotonic() + timeout
        while True:
            children = child_pids(self.proc.pid)
            if len(children) == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if len(children) != 1:
            raise RuntimeError("expected one gunicorn worker, found %r" % children)
        return children[0]


class BareAiohttp(Server):
    """aiohttp's bare ``web.Server`` (bench/bare_aiohttp.py), ``delay`` seconds per request."""

    def __init__(self, delay=0.0, **kwargs):
        self.delay = delay
        super().__init__(None, **kwargs)

    def argv(self, argv):
        """``-m bench.bare_aiohttp PORT DELAY``."""
        return ["-m", "bench.bare_aiohttp", str(self.port), str(self.delay)]


def child_pids(pid):
    """The pids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as f:
                    fields = f.read().rsplit(") ", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == pid:
                found.append(int(name))
    return found


def cpu_seconds(pid):
    """CPU time (user + system) used so far by process ``pid``, all its threads."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    """Resident set size of process ``pid`` in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for pid %d" % pid)


def open_fds(pid):
    """How many file descriptors process ``pid`` has open."""
    return len(os.listdir("/proc/%d/fd" % pid))


def wrk(url, connections, duration):
    """Run wrk (pinned to CPU 1, one thread) against ``url``; its parsed summary."""
    argv = pinned(
        1,
        [
            "wrk",
            "-t1",
            "-c%d" % connections,
            "-d%ds" % duration,
            "--timeout",
            "5s",
            "--latency",
            url,
        ],
    )
    out = subprocess.run(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True
    ).stdout
    return parse_wrk(out)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def parse_wrk(out):
    """requests/s, p50/p99 (ms), socket errors, non-2xx/3xx, requests and seconds from wrk's output."""
    result = {
        "rps": 0.0,
        "p50": float("nan"),
        "p99": float("nan"),
        "errors": 0,
        "non2xx": 0,
        "requests": 0,
        "elapsed": 0.0,
        "raw": out,
    }
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
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        result["non2xx"] = int(m.group(1))
    m = re.search(r"(\d+) requests in ([\d.]+\w+)", out)
    if m:
        result["requests"] = int(m.group(1))
        result["elapsed"] = _ms(m.group(2)) / 1000.0
    return result


def hold_connections(port, path, count, timeout=30.0):
    """``count`` sockets that each made one keep-alive request to ``path`` and stay open.

    Each reads its whole response (headers, then Content-Length bytes) before
    the next connects. The caller closes the sockets.
    """
    request = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (path, port)).encode()
    held = []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
            held.append(s)
            s.sendall(request)
            read_response(s)
    except BaseException:
        for s in held:
            s.close()
        raise
    return held


def read_response(sock):
    """Read one HTTP/1.1 response with a Content-Length from ``sock``; its status line."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed before the response's head")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    if not m:
        raise RuntimeError("response without Content-Length: %r" % head)
    while len(body) < int(m.group(1)):
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed in the response's body")
        body += chunk
    return head.split(b"\r\n", 1)[0].decode("latin-1")
