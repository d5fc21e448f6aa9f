"""``AiohttpWorker``: a gunicorn worker serving WSGI apps on aiohttp 3's HTTP server.

The successor of gunicorn 19's ``gaiohttp``: set
``worker_class = "async_app.worker.AiohttpWorker"`` (or
``AiohttpUVLoopWorker`` with the ``uvloop`` extra). One event loop per worker
process; aiohttp parses HTTP/1.x and writes the bytes; :mod:`async_app.wsgi`
builds the environ and the response.

How an application runs (the seam of docs/pipeline.md):

* a coroutine application (``async def __call__(environ, start_response)``,
  e.g. ``AsyncDjangoApplication``) is awaited on the loop;
* any other WSGI application is called in the view pool
  (:func:`async_app.sync.view_executor`, ``threads`` threads); if it returns
  an awaitable, that is awaited on the loop;
* the body: lists and tuples are written directly, async iterables are
  iterated on the loop, other iterables in a pool thread (they may block);
  then ``aclose()`` is awaited or ``close()`` called in the pool, once;
* a client that disconnects cancels the task awaiting the application.

Lifecycle follows gunicorn's own workers: heartbeat (``notify``) every
second, ``worker_connections`` caps concurrent connections (a full worker
stops accepting), SIGTERM and ``max_requests`` stop gracefully within
``graceful_timeout``, SIGQUIT/SIGINT stop at once, a changed parent stops.
"""
import asyncio
import errno
import gc
import inspect
import logging
import os
import signal
import sys
import warnings
from datetime import datetime

from aiohttp import http_exceptions, web, web_protocol, web_server
from gunicorn import SERVER
from gunicorn import sock as gsock
from gunicorn.workers import base

from . import sync
from .wsgi import Pump, RequestError, Response, WSGIEnviron, max_header_fields, read_body

__all__ = ["AiohttpWorker", "AiohttpUVLoopWorker"]

# How long a stopping worker keeps idle keep-alive connections open for a
# request a client may already be sending (answered with Connection: close).
STOP_KEEPALIVE_LINGER = 2.0
# An idle connection that never sent a request is closed after this long when
# keep-alive is off (otherwise after ``keepalive`` seconds).
FIRST_REQUEST_TIMEOUT = 5.0
SSL_HANDSHAKE_TIMEOUT = 10.0

_ACCEPT_RETRY = (errno.EAGAIN, errno.EWOULDBLOCK, errno.ECONNABORTED,
                 errno.EPROTO, errno.EINTR)


def _env_int(name, default):
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def is_coroutine_app(app):
    """True when calling ``app`` (or its ``__call__``) returns a coroutine."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for func in (app, getattr(app, "__call__", None)):
            if func is not None and (inspect.iscoroutinefunction(func)
                                     or asyncio.iscoroutinefunction(func)):
                return True
    return False


def parser_limits(cfg):
    """gunicorn's request limits as aiohttp parser arguments.

    aiohttp applies ``max_line_size`` to the request target and
    ``max_field_size`` to each header name and value. ``max_headers`` is one
    above the limit so the worker itself answers 431 at the limit (aiohttp
    3.8 does not count headers at all).
    """
    line = cfg.limit_request_line
    field = cfg.limit_request_field_size
    return {
        "max_line_size": line if 0 < line < 8190 else 8190,
        "max_field_size": field if field > 0 else 8190,
        "max_headers": max_header_fields(cfg) + 1,
    }


class _Done:
    """A body a pool thread already iterated (and closed unless it has ``aclose``)."""

    __slots__ = ("result",)

    def __init__(self, result):
        self.result = result


def _set_done(future):
    if not future.done():
        future.set_result(None)


def _consume(future):
    # Retrieve the outcome of work nobody awaits any more (client gone).
    if not future.cancelled():
        future.exception()


class Connection(web_protocol.RequestHandler):
    """aiohttp's HTTP/1 protocol, plus what the worker needs per connection.

    Remembers the task running the application so that a client that goes
    away cancels it (aiohttp 3.8 never does; 3.9+ only with
    ``handler_cancellation``), and tells the worker when it closes.
    """

    def __init__(self, worker, manager, **kwargs):
        super().__init__(manager, **kwargs)
        self.worker = worker
        self.app_task = None
        self.busy = False
        self.idle_since = 0.0
        self.peer_addr = None
        self.server_addr = None
        self.trusted = False
        self.tls = False
        self.environ_base = None

    def connection_made(self, transport):
        self.peer_addr = transport.get_extra_info("peername")
        self.server_addr = transport.get_extra_info("sockname")
        self.tls = transport.get_extra_info("sslcontext") is not None
        environ = self.worker.environ
        self.trusted = environ.trust(self.peer_addr)
        self.environ_base = environ.for_connection(self.peer_addr, self.server_addr)
        self.idle_since = self.worker.loop.time()
        self.worker.connections.add(self)
        super().connection_made(transport)

    def connection_lost(self, exc):
        super().connection_lost(exc)
        task, self.app_task = self.app_task, None
        if task is not None and not task.done():
            task.cancel()
        self.worker.connection_closed(self)

    def is_idle(self):
        """No request in progress or queued (pipelined) on this connection."""
        return not self.busy and not getattr(self, "_messages", None)

    def handle_error(self, request, status=500, exc=None, message=None):
        """Answer requests aiohttp's parser refused with a 4xx and a warning, like gunicorn."""
        if status >= 500:
            return super().handle_error(request, status, exc, message)
        status, reason = _parse_error_status(exc)
        ip = self.peer_addr[0] if isinstance(self.peer_addr, tuple) else self.peer_addr
        self.worker.log.warning("Invalid request from ip=%s: %s", ip, message or exc)
        resp = web.Response(status=status, reason=reason,
                            text="%s\n" % (message or reason),
                            headers={"Connection": "close", "Server": SERVER})
        resp.force_close()
        return resp


def _parse_error_status(exc):
    """gunicorn's status for a parser error: 414 long target, 431 headers, else 400."""
    if isinstance(exc, http_exceptions.LineTooLong):
        line = exc.args[0] if exc.args else ""
        if isinstance(line, (bytes, bytearray)):
            line = bytes(line).decode("latin-1")
        line = str(line)
        # aiohttp 3.8 names the part; 3.9+ quotes the start of the offending line.
        if line.startswith(("/", "http:", "https:", "Status line")):
            return 414, "URI Too Long"
        return 431, "Request Header Fields Too Large"
    if isinstance(exc, http_exceptions.BadHttpMessage) and "Too many headers" in str(exc):
        return 431, "Request Header Fields Too Large"
    return 400, "Bad Request"


class _Server(web_server.Server):
    """aiohttp's low-level server making :class:`Connection` protocols."""

    def __init__(self, worker, handler, **kwargs):
        super().__init__(handler, **kwargs)
        self.worker = worker

    def __call__(self):
        return Connection(self.worker, self, loop=self._loop, **self._kwargs)


class AiohttpWorker(base.Worker):
    """Gunicorn worker: aiohttp 3's HTTP server, WSGI apps sync or coroutine.

    Configuration is gunicorn's (``threads``, ``keepalive``,
    ``worker_connections``, ``timeout``, ``graceful_timeout``,
    ``max_requests``, ``limit_request_*``, ``forwarded_allow_ips``,
    ``secure_scheme_headers``, ``certfile``/``keyfile``, hooks, logs). The
    request body limits come from the environment:
    ``ASYNC_APP_MAX_BODY_SIZE`` (default 100 MiB, larger bodies get 413) and
    ``ASYNC_APP_BODY_SPOOL_SIZE`` (default 1 MiB, larger bodies go to a
    temporary file).
    """

    max_body_size = 100 * 1024 * 1024
    body_spool_size = 1024 * 1024

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loop = None
        self.connections = set()
        self.environ = None
        self._quick = False
        self._wakeup = None
        self._room = None
        self._open = 0
        self._max_connections = 1000
        self._acceptors = []
        self._coroutine_app = False
        self._ssl = None
        self._server = None
        self._keepalive = True
        self._pre_request = self._post_request = None
        self._access_log = False
        self._want_req = True

    # --- gunicorn lifecycle ------------------------------------------------

    def new_event_loop(self):
        """The event loop this worker runs (overridden by the uvloop worker)."""
        return asyncio.new_event_loop()

    def init_process(self):
        """Make this process's event loop and pools, then boot like gunicorn's workers."""
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
        self.alive = False
        self._wake()

    def handle_quit(self, sig, frame):
        """SIGQUIT/SIGINT: exit now; requests in flight are cancelled."""
        self.alive = False
        self._quick = True
        self.cfg.worker_int(self)
        self._wake()

    def run(self):
        """Serve until told to stop, then shut down and close the loop."""
        self.max_body_size = _env_int("ASYNC_APP_MAX_BODY_SIZE", self.max_body_size)
        self.body_spool_size = _env_int("ASYNC_APP_BODY_SPOOL_SIZE", self.body_spool_size)
        self.environ = WSGIEnviron(self.cfg)
        self._coroutine_app = is_coroutine_app(self.wsgi)
        self._keepalive = self.cfg.keepalive > 0
        self._pre_request, self._post_request = _request_hooks(self.cfg, self.log)
        self._access_log = _access_log_enabled(self.log, self.cfg)
        # gunicorn's req object is only for hooks and the access log.
        self._want_req = bool(self._access_log or self._pre_request or self._post_request)
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
        self._server = _Server(
            self, self.handle_request,
            keepalive_timeout=keepalive,
            tcp_keepalive=True,
            logger=self.log.error_log,
            access_log=None,
            auto_decompress=False,
            **parser_limits(self.cfg)
        )
        idle_limit = keepalive if keepalive > 0 else FIRST_REQUEST_TIMEOUT
        self._acceptors = [loop.create_task(self._accept(listener))
                           for listener in self.sockets]
        try:
            while self.alive:
                self.notify()
                if self.ppid != os.getppid():
                    self.log.info("Parent changed, shutting down: %s", self)
                    self.alive = False
                    break
                self._close_idle(loop.time() - idle_limit)
                try:
                    await asyncio.wait_for(self._wakeup.wait(), 1.0)
                except asyncio.TimeoutError:
                    pass
        finally:
            await self._shutdown()

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

    def _close_idle(self, idle_before):
        for conn in list(self.connections):
            if conn.is_idle() and conn.idle_since <= idle_before:
                conn.force_close()

    def _wake(self):
        if self._wakeup is not None:
            self._wakeup.set()

    # --- shutdown ---------------------------------------------------------

    async def _shutdown(self):
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
        """Wait for work spawned by views, then close the shared HTTP client.

        Only if the application imported those tools: nothing can have been
        spawned or opened otherwise.
        """
        loop = self.loop
        for module_name, func_name, takes_timeout in (
                ("async_app.tasks", "wait_spawned", True),
                ("async_app.http", "close_http_session", False)):
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
        """aiohttp's request handler: run the WSGI app for one request.

        Returns the (already written) :class:`async_app.wsgi.Response`.
        """
        loop = self.loop
        conn = request.protocol
        conn.busy = True
        started = datetime.now() if self._access_log else None
        self.nr += 1
        if self.nr >= self.max_requests and self.alive:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False
            self._wake()
        keep_alive = (self.alive and self._keepalive and request.keep_alive
                      and "Upgrade" not in request.headers)
        resp = Response(request, keep_alive, loop, self)
        environ = None
        req = None
        body = None
        hooked = False
        try:
            try:
                environ, req, expect = self.environ.parse(request, conn, self._want_req)
                if req is not None:
                    if self._pre_request is not None:
                        self._pre_request(self, req)
                    hooked = True
                body, length = await read_body(request, self.max_body_size,
                                               self.body_spool_size, expect)
            except RequestError as exc:
                ip = environ["REMOTE_ADDR"] if environ else conn.peer_addr
                self.log.warning("Invalid request from ip=%s: %s", ip, exc.message)
                await resp.send_error(exc.status, exc.reason, exc.message)
                return resp
            environ["wsgi.input"] = body
            if req is not None:
                req.body = body
            if length is not None:
                environ["CONTENT_LENGTH"] = str(length)
            conn.app_task = _current_task(loop)
            try:
                await self._run_app(environ, resp)
            finally:
                conn.app_task = None
            return resp
        except asyncio.CancelledError:
            resp.keep_alive = False
            raise
        except Exception as exc:
            resp.keep_alive = False
            if isinstance(exc, (ConnectionError, asyncio.IncompleteReadError)):
                self.log.debug("Client went away: %r", exc)
            else:
                self.log.exception("Error handling request %s",
                                   environ["RAW_URI"] if environ else request.raw_path)
            if resp.headers_sent or conn.transport is None:
                # A started response cannot become an error page: cut it short.
                conn.force_close()
            else:
                try:
                    await resp.send_error(500, "Internal Server Error")
                except Exception:
                    conn.force_close()
            return resp
        finally:
            conn.busy = False
            conn.idle_since = loop.time()
            # A response that went out promising keep-alive before we were
            # told to stop leaves an idle connection, which _shutdown treats
            # as the others: a request already on its way is still answered.
            if not self.alive and not resp.keep_alive:
                conn.close()
            if body is not None:
                body.close()
            if started is not None and resp.status is not None:
                if environ is None:
                    environ = {"REQUEST_METHOD": request.method,
                               "RAW_URI": request.raw_path,
                               "SERVER_PROTOCOL": "HTTP/%d.%d" % tuple(request.version)}
                self.log.access(resp, req or (), environ, datetime.now() - started)
            if hooked and self._post_request is not None:
                try:
                    self._post_request(self, req, environ, resp)
                except Exception:
                    self.log.exception("Exception in post_request hook")

    async def _run_app(self, environ, resp):
        app = self.wsgi
        if self._coroutine_app:
            result = app(environ, resp.start_response)
            while inspect.isawaitable(result):
                result = await result
            await self._write_body(result, resp)
            return
        pump = resp.pump = Pump(self.loop)
        work = self.loop.create_task(sync.run_sync(
            self._call_sync_app, app, environ, resp, pump,
            executor=sync.view_executor()))
        try:
            result = await pump.drain(work, resp)
        except BaseException:
            pump.abort()
            work.add_done_callback(self._close_abandoned)
            raise
        finally:
            resp.pump = None
        if isinstance(result, _Done):
            await resp.finish()
            if hasattr(result.result, "aclose"):
                await self._close(result.result)
            return
        while inspect.isawaitable(result):
            result = await result
        await self._write_body(result, resp)

    def _call_sync_app(self, app, environ, resp, pump):
        # In a pool thread: call the app and, for an iterable that may
        # block, iterate it here too (one hop per request, as gthread).
        result = app(environ, resp.start_response)
        if (inspect.isawaitable(result) or isinstance(result, (list, tuple))
                or hasattr(result, "__aiter__")):
            return result
        self._iterate(result, pump)
        return _Done(result)

    @staticmethod
    def _iterate(result, pump):
        # In a pool thread: feed the body to the loop, then close it.
        try:
            for chunk in result:
                pump.put(chunk)
        finally:
            if not hasattr(result, "aclose"):
                close = getattr(result, "close", None)
                if close is not None:
                    close()

    def _close_abandoned(self, work):
        # The client left while a pool thread ran the app: once it is done,
        # a body it returned un-iterated or with aclose() still gets closed.
        if work.cancelled() or work.exception() is not None:
            return
        result = work.result()
        if isinstance(result, _Done):
            if not hasattr(result.result, "aclose"):
                return
            result = result.result
        if inspect.iscoroutine(result):
            result.close()
        elif hasattr(result, "aclose") or hasattr(result, "close"):
            self.loop.create_task(self._close(result))

    async def _write_body(self, result, resp):
        closed = False
        try:
            if isinstance(result, (list, tuple)):
                await resp.write_all(result)
                return
            if resp.early:
                await resp.write_early()
            if hasattr(result, "__aiter__"):
                async for chunk in result:
                    await resp.write(chunk)
            else:
                pump = resp.pump = Pump(self.loop)
                work = self.loop.create_task(sync.run_sync(
                    self._iterate, result, pump, executor=sync.view_executor()))
                # From here on the thread closes a sync-only body.
                closed = not hasattr(result, "aclose")
                try:
                    await pump.drain(work, resp)
                except BaseException:
                    pump.abort()
                    work.add_done_callback(_consume)
                    raise
                finally:
                    resp.pump = None
            await resp.finish()
        finally:
            if not closed:
                await self._close(result)

    async def _close(self, result):
        """``aclose()`` awaited, else ``close()`` in the pool; errors logged."""
        try:
            aclose = getattr(result, "aclose", None)
            if aclose is not None:
                await aclose()
                return
            close = getattr(result, "close", None)
            if close is not None:
                await sync.run_sync(close, executor=sync.view_executor())
        except asyncio.CancelledError:
            raise
        except Exception:
            self.log.exception("Error closing the response of the application")


class AiohttpUVLoopWorker(AiohttpWorker):
    """:class:`AiohttpWorker` on uvloop (``pip install async_app[uvloop]``)."""

    def new_event_loop(self):
        try:
            import uvloop
        except ImportError:
            raise RuntimeError("AiohttpUVLoopWorker needs uvloop: "
                               "pip install 'async_app[uvloop]'") from None
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


def _request_hooks(cfg, log):
    """``(pre_request, post_request)``; None for gunicorn's defaults when they do nothing.

    The default ``pre_request`` only logs at debug level; the default
    ``post_request`` does nothing.
    """
    pre, post = cfg.pre_request, cfg.post_request
    if pre is cfg.settings["pre_request"].default and not log.error_log.isEnabledFor(
            logging.DEBUG):
        pre = None
    if post is cfg.settings["post_request"].default:
        post = None
    return pre, post


def _access_log_enabled(log, cfg):
    # gunicorn 24+ says so itself; gunicorn 23's Logger.access() checks this.
    enabled = getattr(log, "access_log_enabled", None)
    if enabled is not None:
        return bool(enabled)
    return bool(cfg.accesslog or cfg.logconfig or cfg.logconfig_dict
                or getattr(cfg, "logconfig_json", None)
                or (cfg.syslog and not cfg.disable_redirect_access_to_syslog))


def _all_tasks(loop):
    return asyncio.all_tasks(loop)


def _current_task(loop):
    return asyncio.current_task(loop)
