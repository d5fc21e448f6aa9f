"""``AiohttpWorker``: a gunicorn worker serving WSGI apps on aiohttp 3's HTTP server.

The successor of gunicorn 19's ``gaiohttp``: set
``worker_class = "async_app.worker.AiohttpWorker"`` (or
``AiohttpUVLoopWorker`` with the ``uvloop`` extra).

This module is the process: one event loop per worker process, its signals,
accepting connections (``worker_connections`` caps them: a full worker stops
accepting), the heartbeat (``notify`` every second) and shutdown (SIGTERM and
``max_requests`` stop gracefully within ``graceful_timeout``, SIGQUIT/SIGINT
stop at once, a changed parent stops). What happens on a connection and for
each request is :mod:`async_app.server`: aiohttp parses HTTP/1.x
(:mod:`~async_app.server.connection`), a :class:`RequestCycle` per request
builds the environ, runs the application and writes the response itself
(:mod:`~async_app.server.cycle`, :mod:`~async_app.server.response`).
"""

import asyncio
import errno
import gc
import os
import signal
import sys

from gunicorn import sock as gsock
from gunicorn.workers import base

from . import shutdown as shutdown_signal
from . import sync
from .server.connection import ConnectionFactory, parser_limits
from .server.cycle import CycleSettings, RequestCycle
from .server.environ import WSGIEnviron
from .server.malloc import tune_malloc

__all__ = ["AiohttpWorker", "AiohttpUVLoopWorker"]

# How long a stopping worker keeps idle keep-alive connections open for a
# request a client may already be sending (answered with Connection: close).
STOP_KEEPALIVE_LINGER = 2.0
# An idle connection that never sent a request is closed after this long when
# keep-alive is off (otherwise after ``keepalive`` seconds).
FIRST_REQUEST_TIMEOUT = 5.0
SSL_HANDSHAKE_TIMEOUT = 10.0

_ACCEPT_RETRY = (errno.EAGAIN, errno.EWOULDBLOCK, errno.ECONNABORTED, errno.EPROTO, errno.EINTR)


def _set_done(future):
    if not future.done():
        future.set_result(None)


class AiohttpWorker(base.Worker):
    """Gunicorn worker: aiohttp 3's HTTP server, WSGI apps sync or coroutine.

    Configuration is gunicorn's (``threads``, ``keepalive``,
    ``worker_connections``, ``timeout``, ``graceful_timeout``,
    ``max_requests``, ``limit_request_*``, ``forwarded_allow_ips``,
    ``secure_scheme_headers``, ``certfile``/``keyfile``, hooks, logs). The
    request body limits come from the environment (see
    :class:`async_app.server.cycle.CycleSettings`).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loop = None
        self.connections = set()
        self.environ = None  # the WSGIEnviron, once serving
        self.cycle_settings = None  # what every RequestCycle shares
        self.in_flight = 0  # requests being served
        self._quick = False
        self._wakeup = None
        self._room = None
        self._open = 0
        self._max_connections = 1000
        self._acceptors = []
        self._ssl = None
        self._server = None

    # --- gunicorn lifecycle ------------------------------------------------

    def new_event_loop(self):
        """The event loop this worker runs (overridden by the uvloop worker)."""
        return asyncio.new_event_loop()

    def init_process(self):
        """Make this process's event loop and pools, then boot like gunicorn's workers."""
        # Before any view thread has a malloc arena (docs/worker.md, "Memory").
        threshold = tune_malloc()
        if threshold:
            self.log.debug("glibc malloc: mmap threshold fixed at %d bytes", threshold)
        # The loop must exist before the base class installs signal handlers
        # and loads the app (which may look the loop up).
        self.loop = self.new_event_loop()
        asyncio.set_event_loop(self.loop)
        sync.configure(threads=self.cfg.threads)
        super().init_process()

    def init_signals(self):
        """Signals through the loop (``add_signal_handler``), SIGABRT directly.

        The base class's wakeup-fd pipe would fight asyncio's own, so it is
        not used. SIGABRT (sent by the arbiter when the heartbeat stops)
        keeps a plain handler: it must run even when the loop is blocked.
        """
        for sig in self.SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        loop = self.loop
        loop.add_signal_handler(signal.SIGTERM, self.handle_exit, signal.SIGTERM, None)
        loop.add_signal_handler(signal.SIGQUIT, self.handle_quit, signal.SIGQUIT, None)
        loop.add_signal_handler(signal.SIGINT, self.handle_quit, signal.SIGINT, None)
        loop.add_signal_handler(signal.SIGUSR1, self.handle_usr1, signal.SIGUSR1, None)
        loop.add_signal_handler(signal.SIGWINCH, self.handle_winch, signal.SIGWINCH, None)
        signal.signal(signal.SIGABRT, self.handle_abort)

    def handle_exit(self, sig, frame):
        """SIGTERM: stop accepting, finish requests in flight, then exit."""
        self.begin_graceful_stop()

    def handle_quit(self, sig, frame):
        """SIGQUIT/SIGINT: exit now; requests in flight are cancelled."""
        self.alive = False
        self._quick = True
        self.cfg.worker_int(self)
        self._wake()

    def run(self):
        """Serve until told to stop, then shut down and close the loop."""
        self.environ = WSGIEnviron(self.cfg)
        self.cycle_settings = CycleSettings(self, self.environ)
        if self.cfg.is_ssl:
            self._ssl = gsock.ssl_context(self.cfg)
            self._ssl.set_alpn_protocols(["http/1.1"])
        # The loaded application (Django, its URLconf, templates...) lives as
        # long as the process: take it out of the cyclic GC's work, so a full
        # collection only walks what requests allocate.
        gc.collect()
        gc.freeze()
        _tune_gc()
        loop = self.loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            try:
                self._cancel_leftovers()
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
                # Closing the loop put SIGTERM back to SIG_DFL, but the process
                # may still wait for a sync view's thread; the arbiter repeats
                # SIGTERM until we are gone, and its SIGKILL still bounds this.
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                sync.shutdown_executors(wait=False)

    # --- serving ----------------------------------------------------------

    async def _serve(self):
        loop = self.loop
        self._wakeup = asyncio.Event()
        self._room = asyncio.Event()
        self._max_connections = max(1, self.cfg.worker_connections)
        keepalive = max(float(self.cfg.keepalive), 0.0)
        self._server = ConnectionFactory(
            self,
            self.handle_request,
            keepalive_timeout=keepalive,
            tcp_keepalive=True,
            logger=self.log.error_log,
            access_log=None,
            auto_decompress=False,
            **parser_limits(self.cfg),
        )
        idle_limit = keepalive if keepalive > 0 else FIRST_REQUEST_TIMEOUT
        header_timeout = self.cycle_settings.header_timeout or idle_limit
        self._acceptors = [loop.create_task(self._accept(listener)) for listener in self.sockets]
        try:
            while self.alive:
                self.notify()
                if self.ppid != os.getppid():
                    self.log.info("Parent changed, shutting down: %s", self)
                    self.begin_graceful_stop()
                    break
                now = loop.time()
                self._close_idle(now - idle_limit, now - header_timeout)
                try:
                    await asyncio.wait_for(self._wakeup.wait(), 1.0)
                except asyncio.TimeoutError:
                    pass
        finally:
            await self.shutdown()

    async def _accept(self, listener):
        """Accept connections while fewer than ``worker_connections`` are open.

        A full worker stops accepting: the kernel backlog (and the other
        workers) keep the rest. Pending connections are taken in a batch
        rather than with a loop round trip each.
        """
        loop = self.loop
        sock = getattr(listener, "sock", listener)
        sock.setblocking(False)
        batch = 0
        while True:
            if self._open >= self._max_connections:
                self._room.clear()
                await self._room.wait()
                continue
            try:
                client, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                batch = 0
                await self._readable(sock)
                continue
            except OSError as exc:
                if exc.errno in _ACCEPT_RETRY:
                    continue
                # EMFILE/ENFILE/ENOBUFS: let connections close before retrying.
                self.log.error("Cannot accept on %s: %s", listener, exc)
                await asyncio.sleep(0.5)
                continue
            client.setblocking(False)
            self._open += 1
            loop.create_task(self._connect(client))
            batch += 1
            if batch >= 64:
                batch = 0
                await asyncio.sleep(0)

    async def _readable(self, sock):
        loop = self.loop
        waiter = loop.create_future()
        fd = sock.fileno()
        loop.add_reader(fd, _set_done, waiter)
        try:
            await waiter
        finally:
            loop.remove_reader(fd)

    async def _connect(self, client):
        kwargs = {}
        if self._ssl is not None:
            kwargs = {"ssl": self._ssl, "ssl_handshake_timeout": SSL_HANDSHAKE_TIMEOUT}
        try:
            await self.loop.connect_accepted_socket(self._server, client, **kwargs)
        except BaseException as exc:
            # The protocol never got connection_made: give the slot back here.
            client.close()
            self._free_slot()
            if not isinstance(exc, Exception):
                raise
            self.log.debug("Connection setup failed: %r", exc)

    def connection_closed(self, conn):
        """A connection ended: free its ``worker_connections`` slot."""
        if conn in self.connections:
            self.connections.discard(conn)
            self._free_slot()

    def _free_slot(self):
        self._open -= 1
        self._room.set()

    def _close_idle(self, idle_before, head_before=None):
        """Close idle connections idle since ``idle_before``.

        One whose next request head is still arriving gets until
        ``head_before`` instead (the header timeout, against slowloris).
        """
        for conn in list(self.connections):
            if conn.is_idle():
                before = idle_before
                if conn.head_started and head_before is not None:
                    before = head_before
                if conn.idle_since <= before:
                    conn.force_close()

    def begin_graceful_stop(self):
        """Where every graceful stop begins (SIGTERM, ``max_requests``, a changed parent).

        Responses from now on say ``Connection: close``; the serving loop wakes
        up and runs :meth:`shutdown`. Open streams get the shutdown signal
        (:mod:`async_app.shutdown`) and are closed after its grace period.
        """
        if self.alive:
            graceful = float(self.cfg.graceful_timeout)
            shutdown_signal.begin(
                min(shutdown_signal.grace_period(), max(graceful - min(1.0, 0.25 * graceful), 0.0))
            )
        self.alive = False
        self._wake()

    def _wake(self):
        if self._wakeup is not None:
            self._wakeup.set()

    # --- shutdown ---------------------------------------------------------

    async def shutdown(self):
        """Stop accepting, let requests in flight finish, then cancel what is left.

        Runs on the loop once :meth:`begin_graceful_stop` (or SIGQUIT/SIGINT,
        with no grace) ended the serving loop.
        """
        loop = self.loop
        for task in self._acceptors:
            task.cancel()
        if self._acceptors:
            await asyncio.gather(*self._acceptors, return_exceptions=True)
        self._acceptors = []
        for listener in self.sockets:
            try:
                listener.close()
            except OSError:
                pass
        # The arbiter kills us graceful_timeout after its signal: keep a
        # margin to cancel what is left and let it clean up.
        grace = 0.0 if self._quick else float(self.cfg.graceful_timeout)
        margin = min(1.0, 0.25 * grace) if grace else 0.5
        deadline = loop.time() + grace - margin
        linger_until = loop.time() + min(STOP_KEEPALIVE_LINGER, max(self.cfg.keepalive, 0))
        while self.connections and loop.time() < deadline:
            self.notify()
            now = loop.time()
            if now >= linger_until:
                self._close_idle(now)
            await asyncio.sleep(0.05)
        if not self._quick:
            await self._finish_background(deadline)
        for conn in list(self.connections):
            transport = conn.transport
            if transport is not None:
                transport.abort()
            else:
                conn.force_close()
        # Let cancelled requests run their cleanup (finally blocks, close()).
        pending = [t for t in _all_tasks(loop) if t is not _current_task(loop)]
        if pending:
            await asyncio.wait(pending, timeout=0.8 * margin)

    async def _finish_background(self, deadline):
        """Wait for work spawned by views, then close the shared HTTP client
        and the pub/sub connections.

        Only if the application imported those tools: nothing can have been
        spawned or opened otherwise.
        """
        loop = self.loop
        for module_name, func_name, takes_timeout in (
            ("async_app.tasks", "wait_spawned", True),
            ("async_app.http", "close_http_session", False),
            ("async_app.pubsub", "close", False),
        ):
            module = sys.modules.get(module_name)
            func = getattr(module, func_name, None)
            if func is None:
                continue
            remaining = max(deadline - loop.time(), 0.0)
            try:
                coro = func(remaining) if takes_timeout else func()
                await asyncio.wait_for(coro, remaining + 1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.log.exception("%s.%s failed during shutdown", module_name, func_name)

    def _cancel_leftovers(self):
        loop = self.loop
        if loop.is_closed() or loop.is_running():
            return
        tasks = [t for t in _all_tasks(loop) if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))

    # --- one request --------------------------------------------------------

    async def handle_request(self, request):
        """aiohttp's request handler: count the request, then run its :class:`RequestCycle`.

        Past ``ASYNC_APP_LIMIT_CONCURRENCY`` requests in flight, the request
        is answered 503 at once (load shedding). Returns the (already
        written) :class:`async_app.server.response.Response`.
        """
        settings = self.cycle_settings
        cycle = RequestCycle(settings, request)
        limit = settings.limit_concurrency
        if limit and self.in_flight >= limit:
            return await cycle.shed()
        self.nr += 1
        if self.nr >= self.max_requests and self.alive:
            self.log.info("Autorestarting worker after current request.")
            self.begin_graceful_stop()
        self.in_flight += 1
        try:
            return await cycle.run()
        finally:
            self.in_flight -= 1
            content = request.content
            if content.exception() is not None and not content.is_eof():
                # A body that failed (malformed, timed out, cut short) has
                # nothing left to read: aiohttp's lingering read would only
                # raise its error again and log it as unhandled.
                request.protocol.no_lingering()


class AiohttpUVLoopWorker(AiohttpWorker):
    """:class:`AiohttpWorker` on uvloop (``pip install async_app[uvloop]``)."""

    def new_event_loop(self):
        try:
            import uvloop
        except ImportError:
            raise RuntimeError(
                "AiohttpUVLoopWorker needs uvloop: pip install 'async_app[uvloop]'"
            ) from None
        return uvloop.new_event_loop()


# The interpreter's GC thresholds before the application could change them.
_PYTHON_GC_THRESHOLD = gc.get_threshold()
# Allocations between young collections. A request's objects (Django's
# request/session/messages form reference cycles) outlive several default
# young collections while its view awaits, get promoted and then cost a full
# collection each; with this threshold most are collected young.
GC_YOUNG_THRESHOLD = 10000


def _tune_gc():
    """Raise the young generation's threshold, unless the application set its own."""
    threshold = gc.get_threshold()
    if threshold == _PYTHON_GC_THRESHOLD and threshold[0] < GC_YOUNG_THRESHOLD:
        gc.set_threshold(GC_YOUNG_THRESHOLD, *threshold[1:])


def _all_tasks(loop):
    return asyncio.all_tasks(loop)


def _current_task(loop):
    return asyncio.current_task(loop)
