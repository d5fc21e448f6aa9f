"""Throwaway PostgreSQL and Redis servers for tests, benchmarks and suite runners.

Each server lives in a temporary directory on a free loopback port and is
stopped (and its directory removed) by :meth:`stop`, which the context
managers and the pytest fixtures of ``tests/conftest.py`` call even when a
test fails. Nothing depends on a system service already running.

* :class:`PostgresServer`: ``initdb`` + ``pg_ctl`` from Debian's
  ``postgresql`` package (``make test`` installs it where missing). As root,
  the cluster belongs to an unprivileged user (``postgres`` when it exists,
  else ``nobody``), since PostgreSQL refuses to run as root. ``url`` is the
  ``postgres://user@127.0.0.1:port/name`` form ``DATABASE_URL`` takes.
* :class:`RedisServer`: ``redis-server`` from Debian's ``redis-server``
  package, without persistence. ``url`` is ``redis://127.0.0.1:port/0``.

Both can be stopped and started again on the same port (``restart``), to
test clients that must recover from a backend restart::

    with PostgresServer() as pg:
        os.environ["DATABASE_URL"] = pg.url
        ...
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

__all__ = ["PostgresServer", "RedisServer", "ServiceUnavailable", "free_port"]


class ServiceUnavailable(RuntimeError):
    """The server's binaries are missing or it would not start (the message says why)."""


def free_port():
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port, timeout, process=None, log_path=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    log = ""
    if log_path and os.path.exists(log_path):
        with open(log_path, errors="replace") as f:
            log = f.read()[-3000:]
    raise ServiceUnavailable("server on port %d did not come up in %ss\n%s" % (port, timeout, log))


class _Server:
    """Common life cycle: ``start()``, ``stop()``, ``restart()``, context manager."""

    def __init__(self):
        self.dir = None
        self.port = None
        self.running = False

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop(remove=True)

    def restart(self, down_for=0.0):
        """Stop the server, wait ``down_for`` seconds, start it again on the same port."""
        self.stop(remove=False)
        if down_for:
            time.sleep(down_for)
        self.start()


class PostgresServer(_Server):
    """A PostgreSQL cluster of its own: ``with PostgresServer() as pg: pg.url``."""

    def __init__(self, dbname="async_app", max_connections=100):
        super().__init__()
        self.dbname = dbname
        self.max_connections = max_connections
        self.user = None
        self.bindir = _postgres_bindir()

    @property
    def url(self):
        """``postgres://user@127.0.0.1:port/dbname``."""
        return "postgres://%s@127.0.0.1:%d/%s" % (self.user, self.port, self.dbname)

    def settings(self, **extra):
        """A Django ``DATABASES`` entry for this server's database."""
        entry = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": self.dbname,
            "USER": self.user,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
        }
        entry.update(extra)
        return entry

    def _as_owner(self, args):
        if os.geteuid() != 0:
            return args
        return [
            "setpriv",
            "--reuid=%s" % self.user,
            "--regid=%d" % pwd.getpwnam(self.user).pw_gid,
            "--clear-groups",
            "--",
        ] + args

    def _run(self, args, **kwargs):
        return subprocess.run(
            self._as_owner(args),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            universal_newlines=True,
            **kwargs,
        )

    def start(self):
        """Create the cluster (first start only) and start the server."""
        if self.running:
            return
        fresh = self.dir is None
        if fresh:
            self.user = (
                _unprivileged_user() if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
            )
            self.dir = tempfile.mkdtemp(prefix="async_app-pg-")
            os.chmod(self.dir, 0o755)
            if os.geteuid() == 0:
                entry = pwd.getpwnam(self.user)
                os.chown(self.dir, entry.pw_uid, entry.pw_gid)
            result = self._run(
                [
                    os.path.join(self.bindir, "initdb"),
                    "-D",
                    self.data_dir,
                    "-U",
                    self.user,
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ]
            )
            if result.returncode != 0:
                raise ServiceUnavailable("initdb failed:\n" + result.stdout)
            self.port = free_port()
        options = (
            "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=%d"
            % (self.port, self.dir, self.max_connections)
        )
        result = self._run(
            [
                os.path.join(self.bindir, "pg_ctl"),
                "-D",
                self.data_dir,
                "-l",
                self.log_path,
                "-o",
                options,
                "-w",
                "-t",
                "30",
                "start",
            ]
        )
        if result.returncode != 0:
            raise ServiceUnavailable("pg_ctl start failed:\n%s\n%s" % (result.stdout, self.log()))
        self.running = True
        if fresh:
            self.psql("CREATE DATABASE %s" % self.dbname, dbname="postgres")

    @property
    def data_dir(self):
        return os.path.join(self.dir, "data")

    @property
    def log_path(self):
        return os.path.join(self.dir, "postgres.log")

    def log(self):
        """The server log so far."""
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def psql(self, sql, dbname=None):
        """Run ``sql`` with psql; return its output (raises on error)."""
        result = subprocess.run(
            [
                os.path.join(self.bindir, "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                dbname or self.dbname,
                "-c",
                sql,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            universal_newlines=True,
        )
        if result.returncode != 0:
            raise RuntimeError("psql %r failed: %s" % (sql, result.stdout))
        return result.stdout.strip()

    def stop(self, remove=True):
        """Stop the server (fast shutdown); with ``remove``, delete the cluster."""
        if self.running:
            self._run(
                [
                    os.path.join(self.bindir, "pg_ctl"),
                    "-D",
                    self.data_dir,
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    "30",
                    "stop",
                ]
            )
            self.running = False
        if remove and self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


class RedisServer(_Server):
    """A Redis server of its own: ``with RedisServer() as redis: redis.url``."""

    def __init__(self):
        super().__init__()
        self.process = None
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.path.exists(self.binary):
            raise ServiceUnavailable(
                "redis-server not found: install Debian's redis-server package "
                "(make test does, as root)"
            )

    @property
    def url(self):
        """``redis://127.0.0.1:port/0``."""
        return "redis://127.0.0.1:%d/0" % self.port

    def start(self):
        """Start the server (on the same port after a restart)."""
        if self.running:
            return
        if self.dir is None:
            self.dir = tempfile.mkdtemp(prefix="async_app-redis-")
            self.port = free_port()
        log_path = os.path.join(self.dir, "redis.log")
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
                "--logfile",
                log_path,
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, 15, self.process, log_path)
        self.running = True

    def stop(self, remove=True):
        """Stop the server; with ``remove``, delete its directory."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        self.running = False
        if remove and self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


def _postgres_bindir():
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0,
    )
    for bindir in reversed(candidates):
        if os.path.exists(os.path.join(bindir, "initdb")):
            return bindir
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(os.path.realpath(initdb))
    raise ServiceUnavailable(
        "PostgreSQL's initdb not found: install Debian's postgresql package "
        "(make test does, as root)"
    )


def _unprivileged_user():
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            pass
    raise ServiceUnavailable("no unprivileged user (postgres or nobody) to run PostgreSQL as")
