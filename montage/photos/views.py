"""montage's views: old sync ones and coroutine ones, side by side.

Sync views (the gallery, the admin, static files) are plain Django 1.11 and
run in the worker's thread pool. Coroutine views run on the event loop, so
they never block it: the ORM goes through ``async_app.database_sync_to_async``
and Pillow through ``async_app.sync_to_async``.
"""

import asyncio

from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import (
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse_lazy
from django.views import View
from django.views.generic.edit import FormView

import async_app

from . import imaging, importer, services
from .events import announce, event_stream, parse_last_event_id
from .forms import CaptionForm, ImportForm, UploadForm
from .live import editor_name
from .models import Photo

#: How many photos the gallery shows per page.
PAGE_SIZE = 24
#: The longest ``/hello/?delay=`` accepted, in seconds.
MAX_HELLO_DELAY = 60.0


def gallery(request):
    """``/``: the processed photos, newest first, with the upload form (sync view)."""
    photos = Photo.objects.exclude(thumbnail="")
    paginator = Paginator(photos, PAGE_SIZE)
    try:
        page = paginator.page(request.GET.get("page", 1))
    except PageNotAnInteger:
        page = paginator.page(1)
    except EmptyPage:
        page = paginator.page(paginator.num_pages)
    return render(
        request,
        "photos/gallery.html",
        {"page": page, "photos": page.object_list, "form": UploadForm()},
    )


@asyncio.coroutine
def hello(request):
    """``/hello/?delay=1``: sleep ``delay`` seconds without blocking, then say hello.

    The classic pre-``async def`` coroutine view, as written for Python 3.4.
    """
    try:
        delay = float(request.GET.get("delay", "1"))
    except ValueError:
        delay = float("nan")
    if not (0 <= delay <= MAX_HELLO_DELAY):  # also refuses nan
        return HttpResponseBadRequest(
            "delay must be a number of seconds from 0 to %g\n" % MAX_HELLO_DELAY,
            content_type="text/plain",
        )
    yield from asyncio.sleep(delay)
    return HttpResponse("Hello world!", content_type="text/plain")


class UploadView(FormView):
    """``/upload/``: upload an image; its thumbnail is made off the event loop.

    The form is validated by FormView's usual sync code; ``form_valid`` is a
    coroutine that processes and saves the image, announces it on
    ``/events/`` and redirects to the gallery.
    """

    form_class = UploadForm
    template_name = "photos/upload.html"
    success_url = reverse_lazy("photos:gallery")

    async def form_valid(self, form):
        """Make the thumbnail (Pillow, in a pool thread), save, announce, redirect."""
        upload = form.cleaned_data["image"]
        try:
            processed = await async_app.sync_to_async(imaging.process_image)(
                upload, settings.MONTAGE_THUMBNAIL_SIZE, settings.MONTAGE_MAX_PIXELS
            )
        except imaging.InvalidImage as exc:
            form.add_error("image", str(exc))
            return self.form_invalid(form)
        photo = await async_app.database_sync_to_async(services.save_photo)(
            upload, processed, name=upload.name, caption=form.cleaned_data["caption"]
        )
        await announce(photo.as_event("upload"))
        return HttpResponseRedirect(self.get_success_url())


async def import_photos(request):
    """``/import/``: fetch image URLs concurrently; report each URL's outcome.

    A URL that fails (HTTP error, not an image, too slow) is listed with its
    error on the page; the others are imported all the same.
    """
    results = None
    if request.method == "POST":
        form = ImportForm(request.POST)
        if form.is_valid():
            results = await importer.import_urls(form.cleaned_data["urls"])
            form = ImportForm()
    else:
        form = ImportForm()
    context = {
        "form": form,
        "results": results,
        "imported": [r for r in results or () if r.photo is not None],
        "timeout": settings.MONTAGE_IMPORT_TIMEOUT,
    }
    return TemplateResponse(request, "photos/import.html", context)


async def montage_jpg(request):
    """``/montage.jpg``: the newest thumbnails composed into one JPEG grid."""
    openers = await async_app.database_sync_to_async(services.thumbnail_openers)(
        settings.MONTAGE_MONTAGE_LIMIT
    )
    data = await async_app.sync_to_async(imaging.compose_montage)(
        openers, settings.MONTAGE_THUMBNAIL_SIZE
    )
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "no-cache"
    return response


async def events(request):
    """``/events/``: server-sent events announcing uploads, imports and captions.

    The stream is an async generator; it stays open until the client leaves
    or the worker shuts down. A reconnecting browser sends ``Last-Event-ID``
    and gets what it missed first. Events reach every worker when
    ``MONTAGE_BROADCAST_URL`` names a shared backend (see ``events.py``).
    """
    last_event_id = parse_last_event_id(
        request.META.get("HTTP_LAST_EVENT_ID") or request.GET.get("last_event_id")
    )
    response = StreamingHttpResponse(
        event_stream(last_event_id, keepalive=settings.MONTAGE_EVENTS_KEEPALIVE),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


class PhotoDetailView(View):
    """``/photos/<id>/``: one photo; POST changes its caption (async class-based view)."""

    template_name = "photos/detail.html"

    async def get_photo(self, pk):
        """The photo, or 404."""
        return await async_app.database_sync_to_async(get_object_or_404)(Photo, pk=pk)

    async def get(self, request, pk):
        """Show the photo and its caption form."""
        photo = await self.get_photo(pk)
        return self.render(request, photo, CaptionForm(instance=photo))

    async def post(self, request, pk):
        """Save a new caption and come back here, or show the form's errors."""
        photo = await self.get_photo(pk)
        form = CaptionForm(request.POST, instance=photo)
        if form.is_valid():
            photo = await async_app.database_sync_to_async(form.save)()
            await announce(photo.as_event("caption"))
            return redirect(photo)
        return self.render(request, photo, form)

    def render(self, request, photo, form):
        """A TemplateResponse for the photo page (which names its editor, see live.py)."""
        return TemplateResponse(
            request,
            self.template_name,
            {"photo": photo, "form": form, "editor": editor_name(request)},
        )
