"""``make bench``: async_app's worker against gunicorn's sync and gthread workers."""
