"""Carrying a response body from a pool thread to the event loop, with back-pressure."""

import collections
import threading

__all__ = ["Pump", "PUMP_HIGH_WATER"]

# Bytes a pool thread may hand to the loop before it waits for the client.
PUMP_HIGH_WATER = 256 * 1024


class _Aborted(Exception):
    """The client went away while a pool thread was producing the body."""


class Pump:
    """Carries body chunks from a pool thread to the event loop.

    The thread calls :meth:`put` (blocking while more than
    ``PUMP_HIGH_WATER`` bytes wait for the client: back-pressure); the loop
    writes them out with :meth:`drain` until the thread's future is done.
    """

    def __init__(self, loop):
        self.loop = loop
        self.chunks = collections.deque()
        self.waiter = None
        self.cond = threading.Condition()
        self.pending = 0
        self.aborted = False

    def put(self, chunk):
        """Thread side: queue ``chunk`` for the client."""
        if not isinstance(chunk, bytes):
            raise TypeError("%r is not a byte string" % (chunk,))
        if not chunk:
            return
        with self.cond:
            while self.pending >= PUMP_HIGH_WATER and not self.aborted:
                self.cond.wait()
            if self.aborted:
                raise _Aborted("client went away")
            self.pending += len(chunk)
        self.loop.call_soon_threadsafe(self._arrive, chunk)

    def _arrive(self, chunk):
        self.chunks.append(chunk)
        self._wake()

    def _wake(self, *_):
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def abort(self):
        """Loop side: make the producing thread stop at its next chunk."""
        with self.cond:
            self.aborted = True
            self.cond.notify_all()

    async def drain(self, future, response):
        """Write queued chunks until ``future`` (the thread's work) is done."""
        # Chunks are queued with call_soon_threadsafe before the thread's
        # future completes (FIFO), so a done future means no chunk is in flight.
        future.add_done_callback(self._wake)
        chunks = self.chunks
        while True:
            while chunks:
                chunk = chunks.popleft()
                await response.write(chunk)
                with self.cond:
                    self.pending -= len(chunk)
                    self.cond.notify()
            if future.done():
                return future.result()
            self.waiter = self.loop.create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
