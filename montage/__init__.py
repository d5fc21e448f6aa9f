"""montage: a small photo-montage site, written the way a 2017 Django 1.11 project was.

It is both the legacy project async_app exists for and its living demo: the
old sync views (gallery, admin) sit next to coroutine views (upload, import,
montage, live events) and are served by ``AsyncDjangoApplication``
(see ``montage/wsgi.py``).
"""
