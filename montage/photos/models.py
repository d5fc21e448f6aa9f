"""The models: a photo with its processed thumbnail, and the events announcing photos."""

import json

from django.db import models
from django.urls import reverse


class Photo(models.Model):
    """An uploaded or imported image and the square thumbnail made from it."""

    SOURCE_UPLOAD = "upload"
    SOURCE_IMPORT = "import"
    SOURCE_CHOICES = (
        (SOURCE_UPLOAD, "Uploaded"),
        (SOURCE_IMPORT, "Imported"),
    )

    image = models.ImageField(upload_to="photos/originals/%Y/%m/")
    thumbnail = models.ImageField(upload_to="photos/thumbnails/%Y/%m/", blank=True)
    caption = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=10, choices=SOURCE_CHOICES, default=SOURCE_UPLOAD)
    source_url = models.URLField(max_length=2000, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created", "-id")

    def __str__(self):
        return self.caption or "Photo #%s" % self.pk

    def get_absolute_url(self):
        """The photo's page, ``/photos/<id>/``."""
        return reverse("photos:detail", args=[self.pk])

    def as_event(self, kind):
        """The JSON-able payload announcing this photo on ``/events/``."""
        return {
            "type": kind,
            "id": self.pk,
            "caption": self.caption,
            "source": self.source,
            "url": self.get_absolute_url(),
            "thumbnail": self.thumbnail.url if self.thumbnail else "",
            "width": self.width,
            "height": self.height,
        }


class Event(models.Model):
    """An announcement sent on ``/events/``, kept so a reconnecting stream can replay it.

    Its id is the server-sent event's ``id:``; a browser that reconnects
    sends the last one it saw as ``Last-Event-ID``.
    """

    kind = models.CharField(max_length=20)
    payload = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)

    def __str__(self):
        return "%s #%s" % (self.kind, self.pk)

    def as_message(self):
        """``{"id", "event", "data"}``: what is published and streamed."""
        return {"id": self.pk, "event": self.kind, "data": json.loads(self.payload)}
