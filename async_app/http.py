"""Outbound HTTP from coroutine views: one shared ``aiohttp.ClientSession`` per worker.

A ``ClientSession`` owns a connection pool. Creating one per call (or per
request) throws the pool away each time: every call pays a new TCP (and TLS)
handshake, and sockets pile up in TIME_WAIT. :func:`http_session` hands out
one session per event loop (one worker = one loop), created lazily on first
use, and the worker closes it on shutdown with :func:`close_http_session`.
"""

import asyncio

__all__ = ["close_http_session", "http_session"]

# event loop -> its shared ClientSession
_sessions = {}


def http_session():
    """Return the running loop's shared ``aiohttp.ClientSession`` (created on first use).

    Use it from coroutine code, e.g. ``async with http_session().get(url) as
    resp:``; concurrent calls through ``asyncio.gather`` share its connection
    pool. Do not close it: the worker does on shutdown.
    """
    loop = asyncio._get_running_loop()
    if loop is None:
        raise RuntimeError("async_app.http_session() must be called from coroutine code")
    session = _sessions.get(loop)
    if session is None or session.closed:
        import aiohttp

        # Forget sessions of loops that were closed without closing them.
        for stale in [other for other in _sessions if other.is_closed()]:
            del _sessions[stale]
        session = _sessions[loop] = aiohttp.ClientSession()
    return session


async def close_http_session():
    """Close the running loop's shared session, if any (worker shutdown, tests)."""
    session = _sessions.pop(asyncio.get_event_loop(), None)
    if session is not None and not session.closed:
        await session.close()
