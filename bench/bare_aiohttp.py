"""aiohttp's bare server, the floor's second half: ``python -m bench.bare_aiohttp PORT [DELAY]``.

aiohttp's low-level ``web.Server`` with a handler answering ``Hello world!``
(after ``asyncio.sleep(DELAY)`` when DELAY > 0), on the default asyncio
loop, one process: what aiohttp itself costs per request, nothing of
gunicorn, WSGI or Django. ``bench/run.py`` runs it pinned to CPU 0.
"""

import asyncio
import sys

from aiohttp import web


def make_handler(delay):
    """The request handler: ``Hello world!``, after ``delay`` seconds if any."""

    async def hello(request):
        if delay:
            await asyncio.sleep(delay)
        return web.Response(text="Hello world!")

    return hello


async def serve(port, delay):
    """Serve on 127.0.0.1:``port`` until the process is killed."""
    server = web.Server(make_handler(delay))
    loop = asyncio.get_event_loop()
    await loop.create_server(server, "127.0.0.1", port, backlog=4096)
    await asyncio.Event().wait()  # until killed


def main():
    """Command line: PORT [DELAY]."""
    port = int(sys.argv[1])
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    try:
        asyncio.run(serve(port, delay))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
