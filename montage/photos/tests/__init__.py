"""montage's test suite, run by ``manage.py test`` (see ``montage/testrunner.py``)."""
