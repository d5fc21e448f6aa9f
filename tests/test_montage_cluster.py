"""montage beyond one process: two gunicorn masters, three workers each, one database.

Both masters share one throwaway PostgreSQL database (``DATABASE_URL``) and
announce events through one backend (``MONTAGE_BROADCAST_URL``): the same
PostgreSQL server (LISTEN/NOTIFY) or, separately, a Redis server. Over real
HTTP:

* an upload through master A reaches ``/events/`` streams held by the workers
  of both masters within a second;
* a stream that reconnects with ``Last-Event-ID`` gets exactly the events it
  missed, then live ones, nothing twice;
* the backend restarts mid-test: the streams still get the next upload and
  the workers' logs say the connection was lost and re-established.
"""

import asyncio
import json
import os
import subprocess
import time
import uuid

import aiohttp
import pytest

from tests.test_montage import MontageServer, http_session, png_bytes, read_event, run, upload

pytestmark = pytest.mark.cluster

STREAMS_PER_MASTER = 6
NO_TIMEOUT = aiohttp.ClientTimeout(total=None)


@pytest.fixture(params=["postgres", "redis"])
def cluster(request, tmp_path, restartable_postgres_server):
    """Two montage masters (WORKERS=3) on one PostgreSQL database, events via ``request.param``."""
    postgres_server = restartable_postgres_server
    database = "montage_%s" % uuid.uuid4().hex[:8]
    postgres_server.psql("CREATE DATABASE %s" % database, dbname="postgres")
    database_url = "postgres://%s@127.0.0.1:%d/%s" % (
        postgres_server.user,
        postgres_server.port,
        database,
    )
    backend = (
        postgres_server
        if request.param == "postgres"
        else request.getfixturevalue("restartable_redis_server")
    )
    media = str(tmp_path / "media")
    servers = []
    try:
        for name in ("a", "b"):
            directory = str(tmp_path / name)
            os.mkdir(directory)
            server = MontageServer(directory)
            server.env.update(
                DATABASE_URL=database_url,
                MONTAGE_BROADCAST_URL=backend.url,
                MONTAGE_MEDIA_ROOT=media,
                MONTAGE_EVENTS_KEEPALIVE="30",
                WORKERS="3",
                THREADS="4",
            )
            servers.append(server.start())
        yield servers, backend
    finally:
        for server in servers:
            server.stop()
            print("---- gunicorn log (%s) ----\n%s" % (server.url, server.output()))


async def open_stream(session, base, last_event_id=None):
    """An ``/events/`` response past its greeting."""
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    response = await session.get(base + "/events/", headers=headers, timeout=NO_TIMEOUT)
    assert response.status == 200
    assert await asyncio.wait_for(response.content.readline(), 30) == b"retry: 3000\n"
    assert await asyncio.wait_for(response.content.readline(), 30) == b": connected\n"
    return response


async def next_event(response, timeout=10):
    """The next event on the stream: (id, event, data); comments skipped."""
    event_id = event = None
    deadline = time.monotonic() + timeout
    while True:
        line = await asyncio.wait_for(response.content.readline(), deadline - time.monotonic())
        if not line:
            raise AssertionError("the event stream ended")
        line = line.decode("utf-8").rstrip("\n")
        if line.startswith("id: "):
            event_id = int(line[4:])
        elif line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            return event_id, event, json.loads(line[6:])


async def upload_and_time(session, base, caption):
    """Upload a photo (the form's page, then the POST); return when it started and ended."""
    started = time.monotonic()
    await upload(session, base, png_bytes((10, 200, 90), (64, 48)), caption)
    return started, time.monotonic()


def listeners(backend):
    """How many worker connections listen on montage's channel right now."""
    if hasattr(backend, "psql"):
        return int(
            backend.psql(
                "SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN \"montage.events\"'",
                dbname="postgres",
            )
        )
    out = subprocess.check_output(
        ["redis-cli", "-p", str(backend.port), "PUBSUB", "NUMSUB", "montage.events"],
        universal_newlines=True,
    )
    return int(out.split()[1])


def test_uploads_reach_every_master_resume_and_survive_a_backend_restart(cluster):
    (a, b), backend = cluster

    async def scenario():
        async with http_session() as session:
            streams = []
            for base in (a.url, b.url):
                for _ in range(STREAMS_PER_MASTER):
                    streams.append(await open_stream(session, base))
            listening = listeners(backend)

            # 1. An upload through A reaches every stream of both masters.
            caption = "cluster-%s" % uuid.uuid4().hex[:6]
            waiters = [
                asyncio.ensure_future(read_event(s, lambda e, d: d.get("caption") == caption))
                for s in streams
            ]
            arrived = []
            for waiter in waiters:
                waiter.add_done_callback(lambda _: arrived.append(time.monotonic()))
            started, answered = await upload_and_time(session, a.url, caption)
            got = await asyncio.wait_for(asyncio.gather(*waiters), 20)
            latency = (max(arrived) - started, max(arrived) - answered)
            assert [event for event, _ in got] == ["upload"] * len(streams)

            # 2. One stream leaves after that event; two uploads (through B)
            #    happen; it comes back with Last-Event-ID.
            resumed_from = await open_stream(session, b.url)
            seen = await next_event_after_upload(session, a.url, resumed_from)
            first_id = seen[0]
            resumed_from.close()
            missed = []
            for n in range(2):
                missed_caption = "missed-%d-%s" % (n, uuid.uuid4().hex[:6])
                await upload_and_time(session, b.url, missed_caption)
                missed.append(missed_caption)
            resumed = await open_stream(session, a.url, last_event_id=first_id)
            replayed = [await next_event(resumed) for _ in range(2)]
            assert [d["caption"] for _, _, d in replayed] == missed
            assert [i for i, _, _ in replayed] == sorted(i for i, _, _ in replayed)
            assert replayed[0][0] > first_id
            live_caption = "live-%s" % uuid.uuid4().hex[:6]
            await upload_and_time(session, b.url, live_caption)
            live = await next_event(resumed)
            assert live[2]["caption"] == live_caption and live[0] > replayed[-1][0]

            # 3. The backend restarts; the streams get the next upload all the same.
            loop = asyncio.get_event_loop()
            await loop.run_in_executor(None, backend.restart, 0.5)
            after_caption = "after-restart-%s" % uuid.uuid4().hex[:6]
            waiters = [
                asyncio.ensure_future(
                    read_event(s, lambda e, d: d.get("caption") == after_caption, 30)
                )
                for s in streams
            ]
            deadline = time.monotonic() + 30
            while True:  # the database may need a moment to accept connections again
                try:
                    await upload_and_time(session, a.url, after_caption)
                    break
                except AssertionError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.5)
            await asyncio.wait_for(asyncio.gather(*waiters), 40)
            for stream in streams + [resumed]:
                stream.close()
            return latency, listening

    latency, listening = run(scenario())
    print(
        "upload -> %d streams on 2 masters: the last got it %.3f s after the upload began "
        "(%.3f s after its answer); %d listening worker connections"
        % (2 * STREAMS_PER_MASTER, latency[0], latency[1], listening)
    )
    # Every open page has it within a second of the upload's answer (the
    # event is published before the redirect, so usually before it).
    assert latency[1] < 1.0
    assert 2 <= listening <= 6
    kind = "PostgreSQL" if hasattr(backend, "psql") else "Redis"
    logs = a.output() + b.output()
    assert ("lost the connection to %s" % kind) in logs, logs[-3000:]
    assert ("reconnected to %s" % kind) in logs, logs[-3000:]


async def next_event_after_upload(session, base, stream):
    """Upload through ``base``; return that upload's event as ``stream`` got it."""
    caption = "seen-%s" % uuid.uuid4().hex[:6]
    await upload_and_time(session, base, caption)
    while True:
        event = await next_event(stream)
        if event[2].get("caption") == caption:
            return event
