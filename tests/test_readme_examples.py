"""docs/views.md and docs/testing.md: their code is the tested code, their claims hold.

The view examples are served by the other toolkit tests (test_db, test_tasks,
test_http, test_testing_client); the test examples are the tests below.
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
from tests.django_project import toolkit_views
from tests.gunicorn_fixture import ROOT
from tests.toolkit_fixtures import db, gunicorn_server, server_db, toolkit_server  # noqa: F401

pytest_plugins = ["async_app.testing.pytest_plugin"]


def readme_section_code_blocks():
    """The python blocks of docs/views.md and of docs/testing.md's "Testing coroutine views"."""
    with open(os.path.join(ROOT, "docs", "views.md")) as f:
        text = f.read()
    with open(os.path.join(ROOT, "docs", "testing.md")) as f:
        text += f.read().split("\n## Testing coroutine views\n", 1)[1]
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_every_readme_example_is_tested_code():
    sources = inspect.getsource(toolkit_views) + inspect.getsource(sys.modules[__name__])
    blocks = readme_section_code_blocks()
    assert len(blocks) >= 9
    for block in blocks:
        assert block in sources, "docs example not found verbatim in the tested code:\n" + block


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
