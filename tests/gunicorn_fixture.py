"""Real gunicorn processes for tests: start one on a free loopback port, stop it.

Use the ``gunicorn_server`` fixture (a factory)::

    def test_x(gunicorn_server):
        server = gunicorn_server("tests.apps.worker_apps:coro_app", threads=4)
        urlopen(server.url("/"))

Keyword arguments are gunicorn settings written to a config file (any
setting name of ``gunicorn --help``, Python values); ``config=`` appends raw
Python to that file (for hooks), ``env=`` adds environment variables, and
``bind="unix"`` serves on a unix socket instead of a TCP port. The server
runs with the current interpreter (``python -m gunicorn``), from the
repository root, with its log in ``server.log_path``. Every server a test
started is stopped (SIGTERM, then SIGKILL) when the test ends.

gunicorn 25+ opens a control socket shared by every gunicorn of the user;
the config turns it off (``control_socket_disable``; older versions ignore
the unknown name), so servers started in parallel do not collide.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = "async_app.worker.AiohttpWorker"


class _PortTaken(Exception):
    pass


def free_port():
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GunicornServer:
    """One gunicorn master (and its workers) serving ``app``."""

    def __init__(self, app, bind=None, env=None, config="", startup_path="/", **settings):
        self.app = app
        self.dir = tempfile.mkdtemp(prefix="gunicorn-test-")
        self.log_path = os.path.join(self.dir, "gunicorn.log")
        self.unix_path = None
        self.port = None
        self._custom_bind = None if bind in (None, "unix") else bind
        if bind == "unix":
            self.unix_path = os.path.join(self.dir, "gunicorn.sock")
            bind = "unix:" + self.unix_path
        elif bind is None:
            self.port = free_port()
            bind = "127.0.0.1:%d" % self.port
        self.bind = bind
        self.startup_path = startup_path
        settings.setdefault("worker_class", WORKER)
        settings.setdefault("workers", 1)
        settings.setdefault("graceful_timeout", 10)
        settings.setdefault("loglevel", "info")
        settings["control_socket_disable"] = True
        settings["bind"] = [bind]
        settings["errorlog"] = "-"
        settings["wsgi_app"] = app
        self.settings = settings
        self.config = config
        self.config_path = os.path.join(self.dir, "gunicorn_conf.py")
        self._write_config()
        self.env = dict(os.environ)
        self.env.pop("GUNICORN_CMD_ARGS", None)
        self.env["PYTHONPATH"] = os.pathsep.join(
            [ROOT] + [p for p in self.env.get("PYTHONPATH", "").split(os.pathsep) if p]
        )
        self.env.update(env or {})
        self.proc = None
        self._log = None

    def _write_config(self):
        with open(self.config_path, "w") as f:
            for name, value in sorted(self.settings.items()):
                f.write("%s = %r\n" % (name, value))
            f.write("\n" + self.config + "\n")

    # --- lifecycle ---------------------------------------------------------

    def start(self, timeout=30.0):
        """Start gunicorn and wait until it answers HTTP on its bind address.

        A free port can be taken by someone else before gunicorn binds it:
        then it tries again on another port (TCP binds picked here only).
        """
        for attempt in range(3):
            try:
                return self._start(timeout)
            except _PortTaken:
                self.port = free_port()
                self.bind = "127.0.0.1:%d" % self.port
                self.settings["bind"] = [self.bind]
                self._write_config()
        return self._start(timeout)

    def _start(self, timeout):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", self.config_path],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._log.close()
                self._log = None
                log = self.log()
                if self.port is not None and self._custom_bind is None and "in use" in log:
                    raise _PortTaken(log)
                raise RuntimeError("gunicorn exited with %s:\n%s" % (self.proc.returncode, log))
            if self._answers(deadline):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("gunicorn did not answer within %ss:\n%s" % (timeout, self.log()))

    def _answers(self, deadline):
        """One probe request; True once it is answered.

        The arbiter's socket accepts connections before a worker runs, so a
        sent probe is waited for until ``deadline``, never sent again: a
        probe given up on would still be served later, and tests that count
        a worker's requests (``max_requests``) would count it twice.
        """
        try:
            sock = self.connect(timeout=2.0)
        except OSError:
            return False
        try:
            sock.settimeout(max(2.0, deadline - time.monotonic()))
            sock.sendall(
                ("GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" % self.startup_path).encode()
            )
            return sock.recv(16).startswith(b"HTTP/1.")
        except OSError:
            return False
        finally:
            sock.close()

    def stop(self, timeout=15.0):
        """SIGTERM the master and wait; SIGKILL it (and its workers) if it hangs."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            workers = self.worker_pids()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            for pid in workers:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        if self._log is not None:
            self._log.close()
            self._log = None

    def signal(self, sig):
        """Send ``sig`` to the master (arbiter)."""
        self.proc.send_signal(sig)

    # --- talking to it ---------------------------------------------------

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    def url(self, path="/"):
        """Absolute http:// URL of ``path`` on this server (TCP binds)."""
        return self.base_url + path

    def connect(self, timeout=10.0):
        """A connected blocking socket to the server (TCP or unix)."""
        if self.unix_path:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            address = self.unix_path
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            address = ("127.0.0.1", self.port)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError:
            sock.close()
            raise
        return sock

    def log(self):
        """Everything gunicorn printed so far."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def worker_pids(self):
        """Pids of the workers booted so far (from the log)."""
        return [int(p) for p in re.findall(r"Booting worker with pid: (\d+)", self.log())]


def pid_alive(pid):
    """True while ``pid`` runs (a zombie counts as gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("State:"):
                    return "Z" not in line.split(":", 1)[1]
    except OSError:
        return False
    return True


@pytest.fixture
def gunicorn_server():
    """Factory: ``gunicorn_server(app, **settings)`` starts a real gunicorn; stopped after the test."""
    servers = []

    def start(app, **kwargs):
        server = GunicornServer(app, **kwargs)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
