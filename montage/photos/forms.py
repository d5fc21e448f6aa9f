"""Forms: upload, import and caption."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.template.defaultfilters import filesizeformat

from . import imaging
from .models import Photo


class UploadForm(forms.Form):
    """One image file and an optional caption."""

    image = forms.ImageField(
        help_text="JPEG, PNG, GIF or WebP.",
        error_messages={"required": "Choose an image to upload."},
    )
    caption = forms.CharField(max_length=200, required=False)

    def clean_image(self):
        """Refuse files that are too big, in formats we do not keep, or too many pixels."""
        image = self.cleaned_data["image"]
        limit = settings.MONTAGE_MAX_UPLOAD_SIZE
        if image.size > limit:
            raise ValidationError(
                "The file is too big (%s; at most %s)."
                % (filesizeformat(image.size), filesizeformat(limit))
            )
        # forms.ImageField has opened the file with Pillow and kept the image.
        pil_image = getattr(image, "image", None)
        if pil_image is not None:
            if pil_image.format not in imaging.FORMATS:
                raise ValidationError(
                    "%s images are not supported; use JPEG, PNG, GIF or WebP." % pil_image.format
                )
            width, height = pil_image.size
            if width * height > settings.MONTAGE_MAX_PIXELS:
                raise ValidationError("The image is too large (%d x %d pixels)." % (width, height))
        return image


class ImportForm(forms.Form):
    """Image URLs to fetch, one per line; only http and https."""

    urls = forms.CharField(
        label="Image URLs",
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "https://example.com/photo.jpg"}),
        help_text="One http:// or https:// URL per line.",
    )

    def clean_urls(self):
        """Return the list of distinct URLs, each checked to be http(s)."""
        validate = URLValidator(schemes=["http", "https"])
        urls = []
        errors = []
        for line in self.cleaned_data["urls"].splitlines():
            url = line.strip()
            if not url or url in urls:
                continue
            scheme = url.split(":", 1)[0].lower() if ":" in url else ""
            if scheme not in ("http", "https"):
                errors.append("Only http and https URLs can be imported: %s" % url)
                continue
            try:
                if any(char.isspace() or ord(char) < 32 for char in url):
                    raise ValidationError("whitespace")
                validate(url)
            except (ValidationError, ValueError):
                errors.append("Not a valid URL: %s" % url)
                continue
            urls.append(url)
        if errors:
            raise ValidationError(errors)
        if not urls:
            raise ValidationError("Enter at least one URL.")
        limit = settings.MONTAGE_IMPORT_MAX_URLS
        if len(urls) > limit:
            raise ValidationError("At most %d URLs at a time." % limit)
        return urls


class CaptionForm(forms.ModelForm):
    """Edit a photo's caption."""

    class Meta:
        model = Photo
        fields = ["caption"]
