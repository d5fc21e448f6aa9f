"""Django admin for photos."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.html import format_html

from . import imaging
from .events import announce_sync
from .models import Photo


class PhotoAdminForm(forms.ModelForm):
    """The admin's photo form: a new image is checked and processed while validating."""

    processed = None

    class Meta:
        model = Photo
        fields = ("image", "caption", "source", "source_url")

    def clean_image(self):
        """Make the thumbnail of a new image now, so a bad file is a form error."""
        image = self.cleaned_data["image"]
        if "image" in self.changed_data:
            try:
                self.processed = imaging.process_image(
                    image, settings.MONTAGE_THUMBNAIL_SIZE, settings.MONTAGE_MAX_PIXELS
                )
            except imaging.InvalidImage as exc:
                raise ValidationError(str(exc))
        return image


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    """Photos with a thumbnail preview; a new image gets a new thumbnail on save."""

    form = PhotoAdminForm
    list_display = ("__str__", "preview", "source", "width", "height", "created")
    list_filter = ("source", "created")
    search_fields = ("caption", "source_url")
    readonly_fields = ("preview", "width", "height", "created")
    fields = ("image", "caption", "source", "source_url", "preview", "width", "height", "created")

    def preview(self, photo):
        """The thumbnail, small."""
        if not photo.thumbnail:
            return "-"
        return format_html('<img src="{}" width="80" height="80" alt="">', photo.thumbnail.url)

    preview.short_description = "Thumbnail"

    def save_model(self, request, photo, form, change):
        """Save, with the thumbnail of a new image; announce it on ``/events/``."""
        if form.processed is not None:
            photo.width, photo.height = form.processed.width, form.processed.height
            photo.thumbnail.save(
                "admin-thumb.jpg", ContentFile(form.processed.thumbnail), save=False
            )
        super().save_model(request, photo, form, change)
        announce_sync(photo.as_event("caption" if change else "upload"))
