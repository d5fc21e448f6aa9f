"""Django 5.2's own async tests, ported to Django 1.11 + async_app.backports.

Each module is a copy of (part of) a Django 5.2.8 test module, named in its
docstring. What a test checks is unchanged; what had to be adapted is only
where Django 5.2's spelling cannot exist here (asgiref imports, module paths
in expected messages, ``response.headers``/``request.headers``, the test
app's URLs, models and permissions). docs/django5-api.md lists every
adaptation, the tests that cannot apply to 1.11 (with the reason) and the
expected failures that belong to the pipeline.
"""
