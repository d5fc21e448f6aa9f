"""AsyncClientHandler: Django's test client through the coroutine pipeline."""

import django.test.client
import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client

from async_app.sync import run_until_complete
from async_app.testing import AsyncClientHandler
from tests.django_project import views


@pytest.fixture
def client(django_db, monkeypatch):
    """A plain django.test.Client, built after ClientHandler = AsyncClientHandler."""
    monkeypatch.setattr(django.test.client, "ClientHandler", AsyncClientHandler)
    client = Client()
    assert isinstance(client.handler, AsyncClientHandler)
    return client


def test_every_view_kind_through_the_test_client(client):
    for path in (
        "/sync/hello/",
        "/async/hello/",
        "/generator/hello/",
        "/cbv/async/hello/",
        "/wrongly-judged/hello/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.content == b"Hello world!", path
    response = client.get("/async/template/")
    assert response.templates[0].name == "page.html"
    assert response.context["visits"] == 1


def test_sync_views_see_the_tests_transaction(client):
    with transaction.atomic():
        User.objects.create_user("in-transaction")
        assert client.get("/sync/user-count/").content == str(User.objects.count()).encode()
        transaction.set_rollback(True)


def test_requests_from_inside_a_view_nest(client):
    response = client.get("/sync/nested-client/")
    assert response.content == b"outer saw: Hello world!"


def test_view_exceptions_reach_the_test_like_django(client):
    with pytest.raises(ValueError, match="boom"):
        client.get("/async/500/")
    with pytest.raises(ValueError, match="boom"):
        client.get("/sync/500/")


def test_spawned_work_is_done_when_the_call_returns(client):
    del views.SPAWNED_DONE[:]
    assert client.get("/async/spawns/").content == b"spawned"
    assert views.SPAWNED_DONE == ["/async/spawns/"]


def test_closing_an_async_stream_closes_the_views_generator(client):
    del views.ENDLESS_STREAMS_CLOSED[:]
    response = client.get("/async/endless-stream/")
    stream = response.streaming_content

    async def read_one_then_close():
        first = await stream.__anext__()
        await stream.aclose()
        # Checked at once: not left to garbage collection or loop shutdown.
        return first, list(views.ENDLESS_STREAMS_CLOSED)

    first, closed = run_until_complete(read_one_then_close())
    assert first == b"data: tick\n\n"
    assert closed == ["/async/endless-stream/"]


def test_async_stream_consumed_synchronously_with_a_warning(client):
    response = client.get("/async/stream/")
    # Django 4.2's text, attributed to the line that iterates.
    with pytest.warns(
        Warning, match="must consume asynchronous iterators in order to serve them synchronously"
    ) as record:
        assert b"".join(response) == b"chunk 0\nchunk 1\nchunk 2\n"
    assert record[0].filename == __file__


def test_middleware_lists_are_shared_with_the_application(client):
    client.handler.load_middleware()
    assert client.handler._view_middleware is client.handler.application._view_middleware
