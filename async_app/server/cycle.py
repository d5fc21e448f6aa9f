"""The request cycle: one request, from parsed head to written response.

:class:`RequestCycle` (uvicorn's ``RequestResponseCycle``) builds the environ,
runs gunicorn's ``pre_request`` hook, reads the body, runs the application
and writes its response, then logs the access and runs ``post_request``.
:class:`CycleSettings` is what all the cycles of one worker share.

How an application runs (the seam of docs/pipeline.md):

* a coroutine application (``async def __call__(environ, start_response)``,
  e.g. ``AsyncDjangoApplication``) is awaited on the loop;
* any other WSGI application is called in the view pool
  (:func:`async_app.sync.view_executor`, ``threads`` threads); if it returns
  an awaitable, that is awaited on the loop;
* the body: lists and tuples are written directly, async iterables are
  iterated on the loop, other iterables in a pool thread (they may block);
  then ``aclose()`` is awaited or ``close()`` called in the pool, once;
* a client that disconnects cancels the task awaiting the application
  (:class:`async_app.server.connection.Connection` does);
* a WebSocket handshake (``Upgrade: websocket``) gets a
  :class:`~async_app.server.upgrade.WebSocketUpgrade` in the environ; once
  the view accepted it, the application's response is not written
  (docs/websockets.md).
"""

import asyncio
import functools
import inspect
import logging
import os
import warnings
from datetime import datetime

from .. import shutdown, sync
from .environ import RequestError
from .pump import Pump
from .request_body import read_body
from .response import Response
from .upgrade import ENVIRON_KEY, WebSocketSlots, WebSocketUpgrade, is_upgrade

__all__ = ["CycleSettings", "RequestCycle", "is_coroutine_app"]


def is_coroutine_app(app):
    """True when calling ``app`` (or its ``__call__``) returns a coroutine."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for func in (app, getattr(app, "__call__", None)):
            if func is not None and (
                inspect.iscoroutinefunction(func) or asyncio.iscoroutinefunction(func)
            ):
                return True
    return False


def _env_int(name, default):
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def _env_float(name, default):
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


class CycleSettings:
    """What every request cycle of one worker shares, built once when it starts serving.

    From the environment (gunicorn has no such settings):
    ``ASYNC_APP_MAX_BODY_SIZE`` (default 100 MiB, larger bodies get 413),
    ``ASYNC_APP_BODY_SPOOL_SIZE`` (default 1 MiB, larger bodies go to a
    temporary file), ``ASYNC_APP_LIMIT_CONCURRENCY`` (requests in flight
    past which a request gets 503 at once; default 0, no limit),
    ``ASYNC_APP_HEADER_TIMEOUT`` (seconds a request head may take to arrive,
    counted from the connection's last response or its start; default:
    gunicorn's ``keepalive``, or 5 when keep-alive is off)
    and ``ASYNC_APP_BODY_TIMEOUT`` (seconds the body may pause; default
    gunicorn's ``timeout``, which bounds a sync worker's read the same way).
    """

    max_body_size = 100 * 1024 * 1024
    body_spool_size = 1024 * 1024
    header_timeout = None  # the worker's idle limit

    def __init__(self, worker, environ):
        cfg = worker.cfg
        self.worker = worker  # its ``alive``, ``log`` and ``loop``
        self.loop = worker.loop
        self.log = worker.log
        self.app = worker.wsgi
        self.environ = environ  # a WSGIEnviron
        self.max_body_size = _env_int("ASYNC_APP_MAX_BODY_SIZE", self.max_body_size)
        self.body_spool_size = _env_int("ASYNC_APP_BODY_SPOOL_SIZE", self.body_spool_size)
        self.limit_concurrency = _env_int("ASYNC_APP_LIMIT_CONCURRENCY", 0)
        self.header_timeout = _env_float("ASYNC_APP_HEADER_TIMEOUT", self.header_timeout)
        # A body that pauses this long gets 408 (gunicorn's sync workers
        # are killed after ``timeout`` blocked on a read).
        self.body_timeout = _env_float("ASYNC_APP_BODY_TIMEOUT", float(cfg.timeout or 30))
        self.coroutine_app = is_coroutine_app(self.app)
        self.websocket_slots = WebSocketSlots()  # ASYNC_APP_MAX_WEBSOCKETS
        self.keepalive = cfg.keepalive > 0
        self.pre_request, self.post_request = request_hooks(cfg, self.log)
        self.access_log = access_log_enabled(self.log, cfg)
        # gunicorn's req object is only for hooks and the access log.
        self.want_req = bool(self.access_log or self.pre_request or self.post_request)


class _Done:
    """A body a pool thread already iterated (and closed unless it has ``aclose``)."""

    __slots__ = ("result",)

    def __init__(self, result):
        self.result = result


def _consume(future):
    # Retrieve the outcome of work nobody awaits any more (client gone).
    if not future.cancelled():
        future.exception()


class RequestCycle:
    """One request on the loop: environ, hooks, body, application, response."""

    __slots__ = ("settings", "loop", "log", "request", "conn", "input", "input_left", "upgrade")

    def __init__(self, settings, request):
        self.settings = settings
        self.loop = settings.loop
        self.log = settings.log
        self.request = request
        self.conn = request.protocol
        # True once the application may outlive the cycle (client gone while
        # it ran): its wsgi.input is then closed by whoever sees it finish.
        self.input = None  # wsgi.input, once the body is in
        self.input_left = False
        self.upgrade = None  # a WebSocketUpgrade for an upgrade request

    async def run(self):
        """Serve the request; return the (already written) :class:`Response`."""
        settings = self.settings
        worker = settings.worker
        loop = self.loop
        request = self.request
        conn = self.conn
        conn.busy = True
        started = datetime.now() if settings.access_log else None
        keep_alive = (
            worker.alive
            and settings.keepalive
            and request.keep_alive
            and "Upgrade" not in request.headers
        )
        resp = Response(request, keep_alive, loop, worker)
        environ = None
        req = None
        body = None
        hooked = False
        slots = None
        try:
            try:
                environ, req, expect = settings.environ.parse(request, conn, settings.want_req)
                if req is not None:
                    if settings.pre_request is not None:
                        settings.pre_request(worker, req)
                    hooked = True
                body, length = await read_body(
                    request,
                    settings.max_body_size,
                    settings.body_spool_size,
                    expect,
                    settings.body_timeout,
                )
                if is_upgrade(request):
                    if not settings.websocket_slots.take():
                        raise RequestError(
                            503, "Service Unavailable", "Too many WebSockets open on this worker"
                        )
                    slots = settings.websocket_slots
                    self.upgrade = environ[ENVIRON_KEY] = WebSocketUpgrade(request)
            except RequestError as exc:
                ip = environ["REMOTE_ADDR"] if environ else conn.peer_addr
                self.log.warning("Invalid request from ip=%s: %s", ip, exc.message)
                await resp.send_error(exc.status, exc.reason, exc.message)
                return resp
            environ["wsgi.input"] = self.input = body
            if req is not None:
                req.body = body
            if length is not None and "HTTP_TRANSFER_ENCODING" in environ:
                # A chunked body's length, once known (Django reads
                # CONTENT_LENGTH bytes).
                environ["CONTENT_LENGTH"] = str(length)
            conn.app_task = asyncio.current_task(loop)
            try:
                await self._run_app(environ, resp)
            except asyncio.CancelledError:
                # A coroutine app's sync code (a view in a pool thread) may
                # still be reading wsgi.input: its last reference closes it.
                self.input_left = True
                raise
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
                self.log.exception(
                    "Error handling request %s", environ["RAW_URI"] if environ else request.raw_path
                )
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
            if slots is not None:
                slots.give_back()
                self.upgrade.detach()
            conn.busy = False
            conn.idle_since = loop.time()
            # A response that went out promising keep-alive before we were
            # told to stop leaves an idle connection, which the worker's
            # shutdown treats as the others: a request already on its way is
            # still answered.
            if not worker.alive and not resp.keep_alive:
                conn.close()
            if body is not None and not self.input_left:
                body.close()
            if started is not None and resp.status is not None:
                if environ is None:
                    environ = {
                        "REQUEST_METHOD": request.method,
                        "RAW_URI": request.raw_path,
                        "SERVER_PROTOCOL": "HTTP/%d.%d" % tuple(request.version),
                    }
                self.log.access(resp, req or (), environ, datetime.now() - started)
            if hooked and settings.post_request is not None:
                try:
                    settings.post_request(worker, req, environ, resp)
                except Exception:
                    self.log.exception("Exception in post_request hook")

    async def shed(self):
        """Answer 503 with ``Retry-After`` at once: too many requests in flight.

        The body is not read; the connection closes after the answer.
        """
        settings = self.settings
        request = self.request
        started = datetime.now() if settings.access_log else None
        resp = Response(request, False, self.loop, settings.worker)
        self.log.debug("Shedding load: %s %s", request.method, request.raw_path)
        await resp.send_error(
            503,
            "Service Unavailable",
            "Too many requests in flight",
            headers=[("Retry-After", "1")],
        )
        if started is not None:
            # An access-log line like any other answer's (gunicorn logs every one).
            try:
                environ, req, _ = settings.environ.parse(request, self.conn, True)
            except RequestError:
                environ, req = None, None
            if environ is None:
                environ = {
                    "REQUEST_METHOD": request.method,
                    "RAW_URI": request.raw_path,
                    "SERVER_PROTOCOL": "HTTP/%d.%d" % tuple(request.version),
                }
            self.log.access(resp, req or (), environ, datetime.now() - started)
        return resp

    async def _run_app(self, environ, resp):
        app = self.settings.app
        if self.settings.coroutine_app:
            result = app(environ, resp.start_response)
            while inspect.isawaitable(result):
                result = await result
            if self.upgrade is not None and self.upgrade.accepted:
                await self._end_websocket(result, resp)
                return
            await self._write_body(result, resp)
            return
        pump = resp.pump = Pump(self.loop)
        work = sync.submit(_call_sync_app, app, environ, resp, pump, executor=sync.view_executor())
        try:
            result = await pump.drain(work, resp)
        except BaseException:
            pump.abort()
            self._leave_input_to(work)
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

    async def _end_websocket(self, result, resp):
        # The view's response went through the response middleware; the
        # handshake's 101 went out at accept and the socket is over now.
        failed = resp.status_code is not None and resp.status_code >= 500
        resp.status, resp.status_code = "101 Switching Protocols", 101
        resp.headers_sent = True
        resp.keep_alive = False
        try:
            await self.upgrade.finish(1011 if failed else 1000)
        finally:
            await self._close(result)

    def _leave_input_to(self, work):
        # A pool thread still running the app (or iterating its body) may
        # read wsgi.input until it returns: close it then, not before.
        self.input_left = True
        work.add_done_callback(functools.partial(_close_input, self.input))

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
                # Ends at the shutdown grace period (async_app.shutdown).
                async for chunk in shutdown.until_shutdown(result):
                    await resp.write(chunk)
            else:
                pump = resp.pump = Pump(self.loop)
                work = sync.submit(_iterate, result, pump, executor=sync.view_executor())
                # From here on the thread closes a sync-only body.
                closed = not hasattr(result, "aclose")
                try:
                    await pump.drain(work, resp)
                except BaseException:
                    pump.abort()
                    self._leave_input_to(work)
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


def _close_input(stream, _work):
    stream.close()


def _call_sync_app(app, environ, resp, pump):
    # In a pool thread: call the app and, for an iterable that may
    # block, iterate it here too (one hop per request, as gthread).
    result = app(environ, resp.start_response)
    if (
        inspect.isawaitable(result)
        or isinstance(result, (list, tuple))
        or hasattr(result, "__aiter__")
    ):
        return result
    _iterate(result, pump)
    return _Done(result)


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


def request_hooks(cfg, log):
    """``(pre_request, post_request)``; None for gunicorn's defaults when they do nothing.

    The default ``pre_request`` only logs at debug level; the default
    ``post_request`` does nothing.
    """
    pre, post = cfg.pre_request, cfg.post_request
    if pre is cfg.settings["pre_request"].default and not log.error_log.isEnabledFor(logging.DEBUG):
        pre = None
    if post is cfg.settings["post_request"].default:
        post = None
    return pre, post


def access_log_enabled(log, cfg):
    """Whether gunicorn's access log is on (so the cycle builds what it reads)."""
    # gunicorn 24+ says so itself; gunicorn 23's Logger.access() checks this.
    enabled = getattr(log, "access_log_enabled", None)
    if enabled is not None:
        return bool(enabled)
    return bool(
        cfg.accesslog
        or cfg.logconfig
        or cfg.logconfig_dict
        or getattr(cfg, "logconfig_json", None)
        or (cfg.syslog and not cfg.disable_redirect_access_to_syslog)
    )
