"""Function-style middleware (as a 2017 project writes it) that counts requests.

``worker_stats`` tags every response with ``X-Worker-Pid`` (so the load
generator knows which worker served a connection) and keeps this process's
counters, which ``/stats/`` reports: requests started and finished and how
many are in flight. A request that never leaves the middleware (a leak in the
pipeline) shows up as ``inflight`` above zero once the load has stopped.
"""

import os
import threading

_lock = threading.Lock()
COUNTERS = {
    "started": 0,
    "finished": 0,
    "cancelled": 0,
    "long_waits_completed": 0,
    "streams_opened": 0,
    "streams_closed": 0,
}


def count(name, delta=1):
    """Add ``delta`` to counter ``name`` (thread-safe)."""
    with _lock:
        COUNTERS[name] = COUNTERS.get(name, 0) + delta


def snapshot():
    """A copy of the counters plus ``inflight`` and this process's pid."""
    with _lock:
        data = dict(COUNTERS)
    data["inflight"] = data["started"] - data["finished"]
    data["pid"] = os.getpid()
    return data


def worker_stats(get_response):
    """Count the request around the rest of the chain; add ``X-Worker-Pid``."""

    def middleware(request):
        count("started")
        try:
            response = get_response(request)
        finally:
            count("finished")
        response["X-Worker-Pid"] = str(os.getpid())
        return response

    return middleware
