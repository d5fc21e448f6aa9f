"""App configuration for montage.photos."""

from django.apps import AppConfig


class PhotosConfig(AppConfig):
    """The photos app, labelled ``photos``."""

    name = "montage.photos"
    label = "photos"
    verbose_name = "Photos"
