"""montage URL configuration."""

from django.conf import settings
from django.conf.urls import include, url
from django.contrib import admin
from django.contrib.staticfiles.views import serve as serve_static
from django.views.static import serve


def serve_media(request, path):
    """Serve an uploaded file from ``MEDIA_ROOT`` (sync view, read at call time)."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [
    url(r"^admin/", admin.site.urls),
    # A demo on loopback serves its own files, whatever DEBUG says.
    url(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}),
    url(r"^media/(?P<path>.*)$", serve_media),
    url(r"^", include("montage.photos.urls")),
]
