"""async_app.drf.generics: a ModelViewSet and generic views with coroutine handlers.

The issue's done-when: a ModelViewSet whose list/retrieve/create are
``async def`` and await an outbound HTTP call (``async_app.http_session`` to
the quote service the test starts), with token authentication, throttling,
pagination and django-filter, under the test client and under gunicorn.
"""

import json

from tests.drf_fixtures import (  # noqa: F401
    api,
    db,
    drf_db,
    drf_server,
    drf_server_db,
    gunicorn_server,
    http,
    quote_service,
    server_db,
    settings_quote_url,
    toolkit_server,
)


def _same_answer(first, second):
    assert first.status_code == second.status_code
    assert first.content == second.content
    for header in ("Content-Type", "Allow", "Vary", "Location"):
        assert first.get(header) == second.get(header), header


def test_model_viewset_with_coroutine_actions_end_to_end(api, quote_service):
    api.credentials(HTTP_AUTHORIZATION="Token " + api.token.key)
    del quote_service.calls[:]
    created = [
        api.post("/drf/items/", {"name": name, "price": price}, format="json")
        for name, price in (("a", 1), ("b", 2), ("c", 3))
    ]
    assert [r.status_code for r in created] == [201, 201, 201]
    first = created[0].json()
    assert first["name"] == "a" and first["owner"] == "ann" and first["note"] == "quote-for-create"

    page = api.get("/drf/items/")
    assert page.status_code == 200 and page["X-Quote"] == "quote-for-list"
    body = page.json()
    assert body["count"] == 3 and [i["name"] for i in body["results"]] == ["a", "b"]
    assert body["next"].endswith("/drf/items/?page=2")
    assert [i["name"] for i in api.get("/drf/items/?page=2").json()["results"]] == ["c"]
    assert [i["name"] for i in api.get("/drf/items/?name=b").json()["results"]] == ["b"]

    detail = api.get("/drf/items/%d/" % first["id"])
    assert detail["X-Quote"] == "quote-for-retrieve" and detail.json() == first
    assert quote_service.calls == ["create"] * 3 + ["list"] * 3 + ["retrieve"]

    # The 8th request of the minute passes, the 9th is throttled (database cache).
    assert api.get("/drf/items/stats/").json() == {"count": 3}
    assert api.get("/drf/items/").status_code == 429


def test_model_viewset_sync_actions_and_errors_beside_coroutine_ones(api):
    api.force_authenticate(user=api.user)
    item = api.post("/drf/items/", {"name": "a", "price": 1}, format="json").json()
    # update/partial_update/destroy are DRF's sync actions, on the sync path.
    updated = api.put("/drf/items/%d/" % item["id"], {"name": "z", "price": 5}, format="json")
    assert updated.status_code == 200 and updated.json()["name"] == "z"
    assert api.get("/drf/items/%d/" % item["id"]).json()["price"] == 5
    invalid = api.post("/drf/items/", {"price": "x"}, format="json")
    assert invalid.status_code == 400
    assert set(invalid.json()) == {"name", "price"}
    assert api.get("/drf/items/999/").status_code == 404
    assert api.delete("/drf/items/%d/" % item["id"]).status_code == 204
    assert api.get("/drf/items/%d/" % item["id"]).status_code == 404


def test_generic_list_create_matches_drfs_own(api):
    for name, price in (("a", 1), ("b", 2), ("c", 2)):
        ours = api.post("/drf/generic/items/", {"name": name, "price": price}, format="json")
        drfs = api.post("/drf/sync-generic/items/", {"name": name, "price": price}, format="json")
        assert ours.status_code == drfs.status_code == 201
        assert ours["Content-Type"] == drfs["Content-Type"]
        assert ours.json()["id"] + 1 == drfs.json()["id"]
        assert dict(ours.json(), id=None) == dict(drfs.json(), id=None)
    for query in ("", "?page=2", "?page=9", "?price=2", "?name=b", "?price=x"):
        ours = api.get("/drf/generic/items/" + query)
        drfs = api.get("/drf/sync-generic/items/" + query)
        assert ours.status_code == drfs.status_code
        assert ours["Content-Type"] == drfs["Content-Type"] and ours["Vary"] == drfs["Vary"]
        assert ours.content == drfs.content.replace(b"/sync-generic/", b"/generic/")
    assert api.get("/drf/generic/items/?price=2").json()["count"] == 4
    _same_answer(
        api.post("/drf/generic/items/", {}, format="json"),
        api.post("/drf/sync-generic/items/", {}, format="json"),
    )
    html = api.get("/drf/generic/items/", HTTP_ACCEPT="text/html")
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
    assert b"Async Item List" in html.content and b"&quot;name&quot;: &quot;a&quot;" in html.content


def test_generic_detail_coroutine_handlers(api):
    item = api.post("/drf/generic/items/", {"name": "a", "price": 1}, format="json").json()
    path = "/drf/generic/items/%d/" % item["id"]
    assert api.get(path).json() == item
    assert api.put(path, {"name": "b", "price": 2}, format="json").json()["name"] == "b"
    assert api.patch(path, {"price": 7}, format="json").json() == dict(item, name="b", price=7)
    assert api.put(path, {"price": "x"}, format="json").status_code == 400
    assert api.delete(path).status_code == 204
    missing = api.get(path)
    assert missing.status_code == 404 and missing.json() == {"detail": "Not found."}


# --- under gunicorn -----------------------------------------------------------


def test_model_viewset_end_to_end_under_gunicorn(drf_server, quote_service):
    server = drf_server()
    del quote_service.calls[:]
    status, _, body = http(server, "POST", "/drf/items/", b'{"name": "g1", "price": 4}')
    assert status == 201, server.log()
    created = json.loads(body)
    assert created["owner"] == "gus" and created["note"] == "quote-for-create"
    http(server, "POST", "/drf/items/", b'{"name": "g2", "price": 5}')
    http(server, "POST", "/drf/items/", b'{"name": "g3", "price": 6}')
    status, headers, body = http(server, "GET", "/drf/items/?name=g2")
    assert status == 200 and headers["X-Quote"] == "quote-for-list"
    assert [i["name"] for i in json.loads(body)["results"]] == ["g2"]
    status, _, body = http(server, "GET", "/drf/items/")
    assert json.loads(body)["count"] >= 3 and len(json.loads(body)["results"]) == 2
    status, headers, body = http(server, "GET", "/drf/items/%d/" % created["id"])
    assert headers["X-Quote"] == "quote-for-retrieve" and json.loads(body) == created
    assert http(server, "GET", "/drf/items/", token=None)[0] == 401
    assert http(server, "GET", "/drf/items/", token="bad")[0] == 401
    assert quote_service.calls == ["create"] * 3 + ["list"] * 2 + ["retrieve"]
    assert [http(server, "GET", "/drf/items/stats/")[0] for _ in range(3)] == [200, 200, 429]
    assert "SynchronousOnlyOperation" not in server.log()
