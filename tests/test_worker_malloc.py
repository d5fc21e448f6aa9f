"""The worker fixes glibc's mmap threshold (async_app/server/malloc.py).

Served by a real gunicorn: eight view threads each build 320 KiB to 3 MiB
buffers, several at once, and the worker's glibc arenas are read from
``/proc/PID/smaps`` once they are all freed.
"""

import concurrent.futures
import http.client
import os
import subprocess
import sys

import pytest

from async_app.server.malloc import DEFAULT_MMAP_THRESHOLD, _glibc, tune_malloc
from soak.probe import memory
from tests.gunicorn_fixture import ROOT, gunicorn_server  # noqa: F401

APP = "tests.apps.worker_apps:sync_app"
SIZES = (3 * 1024 * 1024, 1536 * 1024, 320 * 1024)
MiB = 1024


def _get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _arenas_after_buffers(server, threads):
    """Arena RSS (kB) of the worker once ``threads`` view threads built and freed buffers."""
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for round_ in range(6):
            size = SIZES[round_ % len(SIZES)]
            paths = ["/buffers?size=%d&hold=0.05" % size] * threads
            answers = list(pool.map(lambda p: _get(server.port, p), paths))
            assert answers == [(200, b"%d" % size)] * threads
    (pid,) = server.worker_pids()
    return memory(pid)


glibc_only = pytest.mark.skipif(not _glibc(), reason="glibc's malloc only")


@glibc_only
@pytest.mark.parametrize(
    "env, fixed",
    [({}, True), ({"ASYNC_APP_MALLOC_MMAP_THRESHOLD": "0"}, False)],
    ids=["default", "opted-out"],
)
def test_view_threads_give_large_buffers_back(gunicorn_server, env, fixed):  # noqa: F811
    server = gunicorn_server(APP, threads=8, env=env, loglevel="debug")
    regions = _arenas_after_buffers(server, threads=8)
    assert regions["n_arenas"] >= 4  # the view threads did get arenas of their own
    assert ("mmap threshold fixed at %d bytes" % DEFAULT_MMAP_THRESHOLD in server.log()) == fixed
    if fixed:
        # 8 threads held up to 3 MiB each at once; freed, it is back to the kernel.
        assert regions["arenas"] < 4 * MiB, regions
    else:
        # glibc's dynamic threshold: the arenas keep what their threads held.
        assert regions["arenas"] > 8 * MiB, regions


@glibc_only
@pytest.mark.parametrize(
    "env",
    [{"MALLOC_MMAP_THRESHOLD_": "131072"}, {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"}],
    ids=["MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"],
)
def test_glibc_settings_of_the_deployment_win(gunicorn_server, env):  # noqa: F811
    server = gunicorn_server(APP, threads=2, env=env, loglevel="debug")
    assert _get(server.port, "/")[0] == 200
    assert "Booting worker" in server.log()
    assert "mmap threshold fixed" not in server.log()


def test_opting_out_and_glibc_settings_change_nothing():
    assert tune_malloc({"ASYNC_APP_MALLOC_MMAP_THRESHOLD": "0"}) is None
    assert tune_malloc({"MALLOC_TRIM_THRESHOLD_": "131072"}) is None
    assert tune_malloc({"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=262144"}) is None


@glibc_only
def test_tune_malloc_sets_the_threshold():
    assert tune_malloc({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}) == DEFAULT_MMAP_THRESHOLD
    assert tune_malloc({"ASYNC_APP_MALLOC_MMAP_THRESHOLD": "262144"}) == 262144
    tune_malloc()  # this test process's own default again


_RAISED_THEN_TUNED = """
import os, sys, threading
from async_app.server.malloc import tune_malloc
from soak.probe import memory
block = bytearray(8 << 20)
del block  # glibc raises its thresholds to 8 MiB (mmap) and 16 MiB (trim)
tuned = tune_malloc(os.environ)
def work():
    held = [bytearray(900 << 10) for _ in range(8)]  # under 1 MiB: from the arena
    del held
thread = threading.Thread(target=work)
thread.start()
thread.join()
print(tuned, memory(os.getpid())["arenas"])
"""


@glibc_only
@pytest.mark.parametrize("threshold, kept", [("", False), ("0", True)], ids=["tuned", "opted-out"])
def test_an_arena_gives_back_its_free_top_after_thresholds_were_raised(threshold, kept):
    # As in a worker whose arbiter freed a large block before the fork.
    env = dict(os.environ, ASYNC_APP_MALLOC_MMAP_THRESHOLD=threshold, PYTHONPATH=ROOT)
    out = subprocess.run(
        [sys.executable, "-c", _RAISED_THEN_TUNED],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,
        universal_newlines=True,
    ).stdout
    tuned, arenas_kb = out.split()
    assert tuned == ("None" if kept else str(DEFAULT_MMAP_THRESHOLD))
    assert (int(arenas_kb) > 4 * MiB) == kept, arenas_kb


def _minor_faults(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(") ", 1)[1].split()[7])


@glibc_only
@pytest.mark.parametrize("worker", ["AiohttpWorker", "AiohttpUVLoopWorker"])
def test_a_served_request_does_not_grow_and_shrink_the_heap(gunicorn_server, worker):  # noqa: F811
    # Each read allocates a 256 KiB buffer (asyncio's ``sock.recv``); under
    # a trim threshold below it, every request moved the heap's top with
    # brk and touched a fresh page: one minor fault per request.
    server = gunicorn_server(APP, worker_class="async_app.worker.%s" % worker)
    (pid,) = server.worker_pids()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:

        def served():
            conn.request("GET", "/")
            response = conn.getresponse()
            return response.status, response.read()

        for _ in range(200):  # warm: lazily built state, the pools' threads
            assert served() == (200, b"hello sync")
        before = _minor_faults(pid)
        for _ in range(500):
            served()
        per_request = (_minor_faults(pid) - before) / 500
    finally:
        conn.close()
    assert per_request < 0.2, per_request
