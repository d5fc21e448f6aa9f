"""montage's test runner: one suite, two request handlers.

``MONTAGE_TEST_HANDLER`` picks how Django's test client reaches the views:

``wsgi`` (default)
    Django's stock ``ClientHandler``, i.e. the ``WSGIHandler`` pipeline. It
    cannot await coroutine views, so tests marked with
    :func:`montage.photos.tests.base.needs_async_handler` are skipped, with
    the reason :data:`ASYNC_ONLY_REASON`.
``async``
    ``async_app.testing.AsyncClientHandler``: the ``AsyncDjangoApplication``
    pipeline. Every test runs.

``MONTAGE_TEST_REPORT=<path>`` writes each test's outcome there as JSON, so
``tests/test_montage.py`` can compare the two runs. Without test labels the
runner tests ``montage.photos``.
"""

import json
import os
import unittest

from django.test.runner import DiscoverRunner

HANDLERS = ("wsgi", "async")

#: Why a test is skipped under Django's stock handler.
ASYNC_ONLY_REASON = (
    "coroutine view: runs only under AsyncDjangoApplication (Django's WSGIHandler cannot await it)"
)


def handler_name():
    """The handler this run uses: ``"wsgi"`` or ``"async"`` (``MONTAGE_TEST_HANDLER``)."""
    name = os.environ.get("MONTAGE_TEST_HANDLER", "wsgi").strip().lower() or "wsgi"
    if name not in HANDLERS:
        raise ValueError("MONTAGE_TEST_HANDLER must be one of %s, not %r" % (HANDLERS, name))
    return name


class RecordingResult(unittest.TextTestResult):
    """A text result that also remembers every test's outcome."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = {}

    def _record(self, test, outcome, detail=""):
        self.outcomes[test.id()] = {"outcome": outcome, "detail": detail}

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, "passed")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "failed", self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "error", self.errors[-1][1])

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._record(test, "expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._record(test, "unexpected success")


class MontageTestRunner(DiscoverRunner):
    """Django's runner, with the request handler chosen by ``MONTAGE_TEST_HANDLER``."""

    def setup_test_environment(self, **kwargs):
        """Install the chosen client handler, then Django's usual test setup."""
        self.handler = handler_name()
        if self.handler == "async":
            import django.test.client
            from async_app.testing import AsyncClientHandler

            django.test.client.ClientHandler = AsyncClientHandler
        super().setup_test_environment(**kwargs)
        if self.verbosity >= 1:
            print("montage tests: %s handler" % self.handler)

    def build_suite(self, test_labels=None, extra_tests=None, **kwargs):
        """Default to montage's own tests."""
        return super().build_suite(test_labels or ["montage.photos"], extra_tests, **kwargs)

    def get_resultclass(self):
        """Record outcomes (Django's --debug-sql result class is not combined with it)."""
        return super().get_resultclass() or RecordingResult

    def suite_result(self, suite, result, **kwargs):
        """Write the JSON report, then count failures as Django does."""
        path = os.environ.get("MONTAGE_TEST_REPORT")
        if path:
            with open(path, "w") as handle:
                json.dump(
                    {"handler": self.handler, "tests": getattr(result, "outcomes", {})},
                    handle,
                    indent=1,
                    sort_keys=True,
                )
        return super().suite_result(suite, result, **kwargs)
