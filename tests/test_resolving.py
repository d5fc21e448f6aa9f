"""The pipeline's URL resolving (async_app/resolving.py): cached root matches, per-request copies."""

import pytest
from django.test import RequestFactory, override_settings
from django.urls import ResolverMatch, Resolver404, clear_url_caches, get_resolver, set_urlconf

from async_app.resolving import ResolvedPaths, view_call

TOOLKIT_URLS = "tests.django_project.toolkit_urls"


@pytest.fixture
def paths():
    set_urlconf(None)
    yield ResolvedPaths()
    set_urlconf(None)


def test_a_root_match_is_resolved_once_per_path(paths):
    first = paths.root_match("/cbv/async/hello/")
    assert first.url_name == "cbv_async_hello"
    assert paths.root_match("/cbv/async/hello/") is first
    assert paths.root_match("/no/such/path/") is None


def test_each_request_gets_its_own_copy_of_a_cached_match(paths):
    one = RequestFactory().get("/async/kwargs/ada/")
    two = RequestFactory().get("/async/kwargs/ada/")
    first = paths.resolve(one)
    first.kwargs["name"] = "changed by a view"
    first.args = first.args + ("extra",)
    second = paths.resolve(two)
    assert one.resolver_match is first and two.resolver_match is second
    assert second is not first
    assert second.kwargs == {"name": "ada"}
    assert second.args == ()


def test_a_new_urlconf_empties_the_cache(paths):
    assert paths.root_match("/dashboard/") is None
    with override_settings(ROOT_URLCONF=TOOLKIT_URLS):
        assert paths.root_match("/dashboard/") is not None
    clear_url_caches()
    assert paths.root_match("/dashboard/") is None  # not in tests.django_project.urls


def test_request_urlconf_is_honoured_and_not_cached(paths):
    request = RequestFactory().get("/groups/ada/")
    request.urlconf = TOOLKIT_URLS
    match = paths.resolve(request)
    assert match.kwargs == {"name": "ada"}
    assert paths._matches == {}
    set_urlconf(None)
    with pytest.raises(Resolver404):
        paths.resolve(RequestFactory().get("/groups/ada/"))


@pytest.mark.parametrize("kind", ["ResolverMatch", "subclass", "tuple"])
def test_view_call_unpacks_what_resolving_returns(kind):
    match = get_resolver().resolve("/cbv/async/hello/")
    if kind == "subclass":

        class Match(ResolverMatch):
            def __getitem__(self, index):
                return ("sub-func", ("a",), {"k": 1})[index]

        match = Match(match.func, match.args, match.kwargs)
        assert view_call(match) == ("sub-func", ("a",), {"k": 1})
        return
    if kind == "tuple":
        match = (match.func, ("x",), {"y": 2})
        assert view_call(match) == (match[0], ("x",), {"y": 2})
        return
    callback, args, kwargs = match  # Django's own unpacking
    assert view_call(match) == (callback, args, kwargs)
