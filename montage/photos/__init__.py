"""The photos app: uploads, imports, thumbnails, the montage and live events."""

default_app_config = "montage.photos.apps.PhotosConfig"
