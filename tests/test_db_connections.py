"""Database connections under the worker's thread pools never leak.

Django keeps one connection per thread. Under ``AiohttpWorker`` the threads
that run Django code which may query are the view pool (``threads``: sync
views, ``database_sync_to_async``) and the bridge pool
(``ASYNC_APP_BRIDGE_THREADS``: the ``__call__`` of function-style middleware
around coroutine views), plus the event loop's own thread, where the sync
hooks of ``MiddlewareMixin`` middleware around coroutine views run. A real gunicorn serves tests/apps/db_connections.py
on a throwaway PostgreSQL under a mixed load, with ``CONN_MAX_AGE`` 0 and 60;
a sampler counts the server's connections to that database
(``pg_stat_activity``) throughout: never more than those threads, and none
once the worker has stopped.
"""

import asyncio
import threading
import time
import uuid

import aiohttp
import psycopg2
import pytest

from async_app.sync import run_until_complete
from tests.gunicorn_fixture import gunicorn_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.cluster

THREADS = 4
BRIDGE_THREADS = 6
ROUNDS = 2
PER_KIND = 30


class ConnectionSampler:
    """Counts the server's connections to one database every 20 ms, in a thread."""

    def __init__(self, server, dbname):
        self.conn = psycopg2.connect(
            host="127.0.0.1", port=server.port, user=server.user, dbname="postgres"
        )
        self.conn.autocommit = True
        self.dbname = dbname
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def count(self):
        """The connections to the database right now."""
        with self.conn.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (self.dbname,)
            )
            return cursor.fetchone()[0]

    def _run(self):
        while not self._stop.wait(0.02):
            self.samples.append(self.count())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(5)

    def wait_for(self, wanted, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            count = self.count()
            if count == wanted or time.monotonic() > deadline:
                return count
            time.sleep(0.05)


async def load(base):
    async def get(session, path):
        async with session.get(base + path) as response:
            return response.status, (await response.text()).split(" ")[0]

    # One request per connection: with keep-alive, a pooled connection idle
    # past gunicorn's keepalive (2 s) while the round's slow requests finish
    # is closed by the worker just as the client reuses it ("Server
    # disconnected"; aiohttp 3.8 also logs an AssertionError from
    # RequestHandler.start). That race is not what this test measures.
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        results = []
        for _ in range(ROUNDS):
            paths = ["/sync/", "/orm/", "/slow/?s=0.3"] * PER_KIND
            results.extend(await asyncio.gather(*[get(session, p) for p in paths]))
        return results


@pytest.mark.parametrize("conn_max_age", [0, 60])
def test_connections_stay_within_the_threads_and_end_with_the_worker(
    gunicorn_server, postgres_server, conn_max_age
):
    dbname = "conns_%s" % uuid.uuid4().hex[:8]
    postgres_server.psql("CREATE DATABASE %s" % dbname, dbname="postgres")
    sampler = ConnectionSampler(postgres_server, dbname)
    try:
        with sampler:
            server = gunicorn_server(
                "tests.apps.db_connections:application",
                threads=THREADS,
                startup_path="/sync/",
                env={
                    "DB_NAME": dbname,
                    "DB_USER": postgres_server.user,
                    "DB_HOST": "127.0.0.1",
                    "DB_PORT": str(postgres_server.port),
                    "CONN_MAX_AGE": str(conn_max_age),
                    "ASYNC_APP_BRIDGE_THREADS": str(BRIDGE_THREADS),
                },
            )
            results = run_until_complete(load(server.base_url))
            time.sleep(0.3)
            after_load = sampler.count()
            server.stop()
            after_stop = sampler.wait_for(0)
        peak = max(sampler.samples)
    finally:
        sampler.conn.close()
    limit = THREADS + BRIDGE_THREADS + 1
    print(
        "CONN_MAX_AGE=%d: peak %d connections (limit %d = %d view + %d bridge threads + the loop), "
        "%d after the load, %d after the worker stopped"
        % (conn_max_age, peak, limit, THREADS, BRIDGE_THREADS, after_load, after_stop)
    )
    assert sorted(set(results)) == [(200, "orm"), (200, "slow"), (200, "sync")]
    assert len(results) == ROUNDS * PER_KIND * 3
    assert 1 <= peak <= limit
    # CONN_MAX_AGE=0: each thread closed its connection when its request ended.
    if conn_max_age == 0:
        assert after_load == 0
    else:  # persistent: one per thread that queried, kept until the worker exits
        assert peak <= after_load <= limit
    assert after_stop == 0
