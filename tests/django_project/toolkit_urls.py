"""URLs of the view-side toolkit examples (included at ``/toolkit/``)."""

from django.conf.urls import url

from . import toolkit_views as views

urlpatterns = [
    url(r"^dashboard/$", views.dashboard),
    url(r"^signup/$", views.signup),
    url(r"^groups/$", views.groups),
    url(r"^groups/new/$", views.CreateGroupView.as_view()),
    url(r"^groups/(?P<name>[^/]+)/$", views.GroupView.as_view()),
    url(r"^countdown/$", views.countdown),
    url(r"^blocking-sleep/$", views.blocking_sleep),
    url(r"^thread-sleep/$", views.thread_sleep),
    url(r"^orm-on-loop/$", views.orm_on_loop),
    url(r"^orm-in-thread/$", views.orm_in_thread),
    url(r"^sync-group-count/$", views.sync_group_count),
    url(r"^guard-report/$", views.guard_report),
    url(r"^redirect-loop/$", views.redirect_loop),
    url(r"^whoami/$", views.whoami),
    url(r"^set-cookie/$", views.set_cookie),
    url(r"^echo-cookie/$", views.echo_cookie),
    url(r"^slow-note/$", views.slow_note),
    url(r"^slow-error/$", views.slow_error),
]
