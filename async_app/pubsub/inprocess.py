"""The in-process pub/sub backend (``memory://``, the default): no service.

A message reaches the subscribers of every event loop of this process (the
worker's loop, a test's private loops), and nothing outside it: with several
gunicorn workers each hears only what it published itself.
"""

import asyncio

__all__ = ["Backend"]


class Backend:
    """Fan a published message out to the hubs of this process's loops."""

    #: No server to tell about channels that lost their last subscriber.
    remote = False

    def __init__(self, url, hub):
        self.hub = hub

    async def listen(self, channel):
        """Nothing to tell a server: the hub already knows its channels."""

    async def unlisten(self, channel):
        """Nothing to tell a server."""

    async def publish(self, channel, payload):
        """Deliver ``payload`` to every hub of the broker, each on its own loop."""
        here = asyncio.get_event_loop()
        for hub in self.hub.broker.hubs():
            if hub.loop is here:
                hub.dispatch(channel, payload)
            else:
                try:
                    hub.loop.call_soon_threadsafe(hub.dispatch, channel, payload)
                except RuntimeError:  # that loop closed meanwhile
                    pass

    async def close(self):
        """Nothing to close."""
