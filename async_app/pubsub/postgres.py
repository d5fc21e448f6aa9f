"""The PostgreSQL pub/sub backend (``postgres://``): ``LISTEN``/``NOTIFY``.

Built on psycopg2, the driver Django's PostgreSQL backend already uses, in
its asynchronous mode: the connection's socket is watched with
``loop.add_reader``/``add_writer`` and ``connection.poll()`` does the rest,
so nothing blocks the loop and no thread is held. (An asyncio driver such as
asyncpg would be a second PostgreSQL client library in the project for two
connections; psycopg2's asynchronous mode is documented for exactly this.)

Per event loop: one listening connection, driven by one task that runs the
``LISTEN``/``UNLISTEN`` commands and reads notifications, and one publishing
connection (``SELECT pg_notify(channel, payload)``). Payloads are limited to
8000 bytes by the server (``MAX_MESSAGE_BYTES`` keeps below). When the
listening connection is lost (server restart, network) the task reconnects
with back-off from 0.1 s to 2 s, ``LISTEN``s again, logs both events and
reports a gap to the subscribers.
"""

import asyncio
import collections
import logging

import psycopg2
import psycopg2.extensions

from . import PublishError

__all__ = ["Backend"]

logger = logging.getLogger("async_app.pubsub")

RECONNECT_MIN = 0.1
RECONNECT_MAX = 2.0
# Unless the URL says otherwise: notice a silently dead server within ~20 s.
DEFAULT_OPTIONS = {
    "connect_timeout": "5",
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "3",
    "keepalives_count": "3",
}


def _set_done(future):
    if not future.done():
        future.set_result(None)


def describe(url):
    """``host:port/dbname`` of a connection URL, without credentials (for logs)."""
    try:
        options = psycopg2.extensions.parse_dsn(url)
    except psycopg2.Error:
        return "PostgreSQL"
    return "%s:%s/%s" % (
        options.get("host", "localhost"),
        options.get("port", "5432"),
        options.get("dbname", ""),
    )


class AsyncConnection:
    """A psycopg2 connection in asynchronous mode, driven by the event loop."""

    def __init__(self, loop, url):
        self.loop = loop
        self.url = url
        self.conn = None

    async def open(self):
        """Connect (without blocking the loop)."""
        given = psycopg2.extensions.parse_dsn(self.url)
        extra = {key: value for key, value in DEFAULT_OPTIONS.items() if key not in given}
        dsn = psycopg2.extensions.make_dsn(self.url, **extra)
        self.conn = psycopg2.connect(dsn, async_=True)
        await self.wait()

    async def wait(self):
        """Drive ``poll()`` until the current operation is complete."""
        conn = self.conn
        while True:
            state = conn.poll()
            if state == psycopg2.extensions.POLL_OK:
                return
            await self._ready(state == psycopg2.extensions.POLL_WRITE)

    async def _ready(self, write):
        loop = self.loop
        future = loop.create_future()
        fd = self.conn.fileno()
        if write:
            loop.add_writer(fd, _set_done, future)
        else:
            loop.add_reader(fd, _set_done, future)
        try:
            await future
        finally:
            if write:
                loop.remove_writer(fd)
            else:
                loop.remove_reader(fd)

    async def execute(self, sql, params=None):
        """Run one statement (autocommit, as every asynchronous connection)."""
        cursor = self.conn.cursor()  # must live until poll() is done
        try:
            cursor.execute(sql, params)
            await self.wait()
        finally:
            cursor.close()

    def notifications(self):
        """Take the notifications received so far: [(channel, payload)]."""
        notifies = self.conn.notifies
        taken = [(n.channel, n.payload) for n in notifies]
        del notifies[:]
        return taken

    def close(self):
        """Close the connection (idempotent)."""
        if self.conn is not None and not self.conn.closed:
            try:
                self.conn.close()
            except psycopg2.Error:
                pass


def _quote(channel):
    return '"%s"' % channel.replace('"', '""')


class Backend:
    """LISTEN/NOTIFY for one event loop's hub."""

    def __init__(self, url, hub):
        self.url = url
        self.hub = hub
        self.loop = hub.loop
        self.where = describe(url)
        self._task = None
        self._state = "connecting"  # then "up" or "down"
        self._requests = collections.deque()  # (verb, channel, future)
        self._wakeup = None
        self._publisher = None
        self._publish_lock = asyncio.Lock()
        self._closed = False

    # --- listening --------------------------------------------------------

    async def listen(self, channel):
        """``LISTEN``; returns once the server confirmed (at once while it is down)."""
        await self._request("LISTEN", channel)

    async def unlisten(self, channel):
        """``UNLISTEN`` (the channel has no subscriber left on this loop)."""
        await self._request("UNLISTEN", channel)

    async def _request(self, verb, channel):
        if self._closed:
            return
        if self._task is None:
            self._task = self.loop.create_task(self._run())
        if self._state == "down":
            return  # the reconnect LISTENs to every channel the hub has
        future = self.loop.create_future()
        self._requests.append((verb, channel, future))
        if self._wakeup is not None:
            _set_done(self._wakeup)
        await future

    def _answer_requests(self):
        while self._requests:
            _set_done(self._requests.popleft()[2])

    async def _run(self):
        loop = self.loop
        down_since = None
        delay = RECONNECT_MIN
        while not self._closed:
            conn = AsyncConnection(loop, self.url)
            try:
                await conn.open()
                channels = set(self.hub.channels)
                for channel in sorted(channels):
                    await conn.execute("LISTEN " + _quote(channel))
                self._state = "up"
                if down_since is not None:
                    logger.warning(
                        "pub/sub: reconnected to PostgreSQL at %s after %.1f s; "
                        "listening on %d channel(s) again (messages sent meanwhile are lost)",
                        self.where,
                        loop.time() - down_since,
                        len(channels),
                    )
                    self.hub.interrupted("reconnect")
                down_since = None
                delay = RECONNECT_MIN
                await self._serve(conn, channels)
            except asyncio.CancelledError:
                conn.close()
                self._answer_requests()
                raise
            except (psycopg2.Error, OSError) as exc:
                conn.close()
                if down_since is None:
                    down_since = loop.time()
                    logger.warning(
                        "pub/sub: %s PostgreSQL at %s (%s); reconnecting",
                        "lost the connection to" if self._state == "up" else "cannot connect to",
                        self.where,
                        str(exc).strip().splitlines()[0] if str(exc).strip() else exc,
                    )
                self._state = "down"
                self._answer_requests()
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX)

    async def _serve(self, conn, listening):
        loop = self.loop
        while True:
            while self._requests:
                verb, channel, future = self._requests.popleft()
                try:
                    wanted = channel in self.hub.channels
                    if verb == "LISTEN" and wanted and channel not in listening:
                        await conn.execute("LISTEN " + _quote(channel))
                        listening.add(channel)
                    elif verb == "UNLISTEN" and not wanted and channel in listening:
                        await conn.execute("UNLISTEN " + _quote(channel))
                        listening.discard(channel)
                finally:
                    _set_done(future)
                self._dispatch(conn)
            self._wakeup = loop.create_future()
            readable = loop.create_future()
            fd = conn.conn.fileno()
            loop.add_reader(fd, _set_done, readable)
            try:
                await asyncio.wait([readable, self._wakeup], return_when=asyncio.FIRST_COMPLETED)
            finally:
                loop.remove_reader(fd)
            if readable.done():
                conn.conn.poll()  # reads what arrived; raises if the server went away
                self._dispatch(conn)

    def _dispatch(self, conn):
        for channel, payload in conn.notifications():
            self.hub.dispatch(channel, payload)

    # --- publishing -------------------------------------------------------

    async def publish(self, channel, payload):
        """``pg_notify(channel, payload)`` on the publishing connection (one retry)."""
        async with self._publish_lock:
            for attempt in (1, 2):
                try:
                    if self._publisher is None:
                        publisher = AsyncConnection(self.loop, self.url)
                        await publisher.open()
                        self._publisher = publisher
                    await self._publisher.execute("SELECT pg_notify(%s, %s)", (channel, payload))
                    return
                except (psycopg2.Error, OSError) as exc:
                    if self._publisher is not None:
                        self._publisher.close()
                        self._publisher = None
                    if attempt == 2:
                        raise PublishError(
                            "cannot publish on %r through PostgreSQL at %s: %s"
                            % (channel, self.where, exc)
                        ) from exc

    async def close(self):
        """Stop listening and close both connections."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])
        if self._publisher is not None:
            self._publisher.close()
            self._publisher = None
