"""URLs of the photos app (namespace ``photos``)."""

from django.conf.urls import url

from . import live, views

app_name = "photos"

urlpatterns = [
    url(r"^$", views.gallery, name="gallery"),
    url(r"^hello/$", views.hello, name="hello"),
    url(r"^upload/$", views.UploadView.as_view(), name="upload"),
    url(r"^import/$", views.import_photos, name="import"),
    url(r"^montage\.jpg$", views.montage_jpg, name="montage"),
    url(r"^events/$", views.events, name="events"),
    url(r"^photos/(?P<pk>\d+)/$", views.PhotoDetailView.as_view(), name="detail"),
    url(r"^photos/(?P<pk>\d+)/live/$", live.photo_live, name="live"),
]
