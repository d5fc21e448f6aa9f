"""Django 5.2's own async tests, ported to Django 1.11 + async_app.backports.

Each module is a copy of a Django 5.2.8 test module (path in its docstring)
with imports adapted (asgiref -> async_app) and assertions unchanged; what
could not be ported is listed, with the reason, in docs/django5-api.md.
"""
