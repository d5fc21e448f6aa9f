"""URLs of the test project: ``/sync/<name>/`` and ``/async/<name>/`` pairs, and extras."""

from django.conf.urls import include, url

from . import views

PAIRED = [
    "hello",
    "template",
    "render",
    "message",
    "language",
    "reverse",
    "echo",
    "404",
    "403",
    "400",
    "500",
    "none",
    "stream",
    "file",
    "sleep",
    "protected",
    "key_error",
    "template_title",
]

urlpatterns = []
for _name in PAIRED:
    for _kind in ("sync", "async"):
        _view = getattr(views, "%s_%s" % (_kind, _name), None)
        if _view is not None:
            urlpatterns.append(
                url(r"^%s/%s/$" % (_kind, _name), _view, name="%s_%s" % (_kind, _name))
            )

urlpatterns += [
    url(r"^generator/hello/$", views.generator_hello, name="generator_hello"),
    url(r"^compat-generator/hello/$", views.compat_generator_hello, name="compat_generator_hello"),
    url(r"^cbv/sync/hello/$", views.SyncHelloView.as_view(), name="cbv_sync_hello"),
    url(r"^cbv/async/hello/$", views.AsyncHelloView.as_view(), name="cbv_async_hello"),
    url(r"^wrongly-judged/hello/$", views.wrongly_judged_hello, name="wrongly_judged_hello"),
    url(r"^sync/form/$", views.SyncNameFormView.as_view(), name="sync_form"),
    url(r"^async/form/$", views.AsyncNameFormView.as_view(), name="async_form"),
    url(r"^login/$", views.sync_login, name="login"),
    url(r"^secure/$", views.sync_secure, name="secure"),
    url(r"^bytes/$", views.sync_bytes, name="bytes"),
    url(r"^thread-name/$", views.sync_thread_name, name="thread_name"),
    url(r"^async/hook-flag/$", views.async_hook_flag, name="async_hook_flag"),
    url(r"^async/endless-stream/$", views.async_endless_stream, name="async_endless_stream"),
    url(r"^sync/nested-client/$", views.sync_nested_client, name="sync_nested_client"),
    url(r"^sync/user-count/$", views.sync_user_count, name="sync_user_count"),
    url(r"^async/spawns/$", views.async_spawns, name="async_spawns"),
    url(r"^async/kwargs/(?P<name>\w+)/$", views.async_resolver_kwargs, name="async_kwargs"),
    url(r"^toolkit/", include("tests.django_project.toolkit_urls")),
    url(r"^drf/", include("tests.drf_app.urls")),
]
