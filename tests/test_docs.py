"""docs/: every python block is tested code, and the claims hold.

Each block is found verbatim in tested code (the view examples are served by
the toolkit tests: test_db, test_tasks, test_http, test_testing_client; the
pipeline's by test_core; the test examples are the tests below), or is a
configuration snippet (``# <file> (...)`` first) whose settings have those
values in that file.
"""

import inspect
import os
import re
import sys
import threading
import time
from urllib.request import urlopen

import pytest
from django.contrib.auth.models import Group
from django.test import TestCase

from async_app import database_sync_to_async
from async_app.tasks import wait_spawned
from async_app.testing import AsyncClient, async_test
from tests.apps import pipeline_middleware
from tests.django_project import toolkit_views
from tests.gunicorn_fixture import ROOT
from tests.toolkit_fixtures import db, gunicorn_server, server_db, toolkit_server  # noqa: F401

pytest_plugins = ["async_app.testing.pytest_plugin"]


DOCS = os.path.join(ROOT, "docs")

# Where docs examples come from: each python block is found verbatim in one of these.
TESTED_SOURCES = [toolkit_views, pipeline_middleware]
# ... or in one of these files, whose tests serve or run them (read as text:
# importing a test module here would collect its tests twice).
TESTED_FILES = [
    "tests/test_backports.py",
    "tests/drf_app/views.py",
    "tests/drf_fixtures.py",
    "tests/test_pubsub.py",
    "tests/test_shutdown.py",
    "tests/apps/websocket_urls.py",
    "tests/test_testing_websocket.py",
]


def python_blocks():
    """``(page, block)`` for every python block of every docs/ page."""
    blocks = []
    for name in sorted(os.listdir(DOCS)):
        if name.endswith(".md"):
            with open(os.path.join(DOCS, name)) as f:
                blocks += [
                    (name, block) for block in re.findall(r"```python\n(.*?)```", f.read(), re.S)
                ]
    return blocks


CONFIG_SNIPPET = re.compile(r"# (\S+) \(")


def test_every_docs_example_is_tested_code():
    sources = "".join(inspect.getsource(module) for module in TESTED_SOURCES)
    for path in TESTED_FILES:
        with open(os.path.join(ROOT, path)) as f:
            sources += f.read()
    sources += inspect.getsource(sys.modules[__name__])
    blocks = python_blocks()
    assert len(blocks) >= 12
    pages = {page for page, _ in blocks}
    assert {"views.md", "testing.md", "pipeline.md", "worker.md"} <= pages
    for page, block in blocks:
        config = CONFIG_SNIPPET.match(block)
        if config:
            assert_matches_config_file(block, config.group(1))
        else:
            assert block in sources, "%s example not found verbatim in the tested code:\n%s" % (
                page,
                block,
            )


def assert_matches_config_file(block, path):
    """A configuration snippet: each setting it shows has that value in the real file."""
    shown, real = {}, {}
    exec(compile(block, "<docs snippet>", "exec"), shown)
    with open(os.path.join(ROOT, path)) as f:
        exec(compile(f.read(), path, "exec"), real)
    for name, value in shown.items():
        if not name.startswith("__"):
            assert real.get(name) == value, "%s: %s is %r, the docs say %r" % (
                path,
                name,
                real.get(name),
                value,
            )


# -- the docs' test examples ---------------------------------------------------------


async def test_signup_is_recorded_after_the_response(db, async_client):
    response = await async_client.get("/toolkit/signup/?name=ann&delay=0.05")
    assert response.status_code == 202
    assert not await database_sync_to_async(Group.objects.filter(name="ann").exists)()
    assert await wait_spawned(timeout=5)
    assert await database_sync_to_async(Group.objects.filter(name="ann").exists)()


@pytest.mark.usefixtures("django_db")
class GroupsTests(TestCase):
    @async_test
    async def test_lists_groups(self):
        await database_sync_to_async(Group.objects.create)(name="admins")
        response = await AsyncClient().get("/toolkit/groups/")
        self.assertEqual(response.json(), {"groups": ["admins"]})


# -- blocking code in a coroutine view, under a real gunicorn ----------------------------


def timed_get(server, path, results, key):
    started = time.monotonic()
    with urlopen(server.url(path), timeout=10) as response:
        response.read()
    results[key] = time.monotonic() - started


def latency_while(server, slow_path, probe_path):
    """How long ``probe_path`` takes when requested 0.1 s into ``slow_path``."""
    results = {}
    slow = threading.Thread(target=timed_get, args=(server, slow_path, results, "slow"))
    slow.start()
    time.sleep(0.1)
    timed_get(server, probe_path, results, "probe")
    slow.join()
    return results["probe"]


def test_blocking_a_coroutine_view_stalls_the_worker_and_asyncio_debug_reports_it(toolkit_server):
    server = toolkit_server(threads=4, env={"PYTHONASYNCIODEBUG": "1"})
    # A sync view, whose response the blocked loop cannot send.
    assert latency_while(server, "/toolkit/blocking-sleep/", "/sync/hello/") > 0.3
    assert latency_while(server, "/toolkit/thread-sleep/", "/sync/hello/") < 0.25
    assert re.search(r"Executing <Task .* took 0\.5\d\d seconds", server.log()), server.log()
