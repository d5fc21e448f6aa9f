"""Run a smoke subset of Django 1.11's own test suite under async_app's compat layer.

Usage: python .ci/django_smoke.py DJANGO_TESTS_DIR [--parallel N] LABEL...

DJANGO_TESTS_DIR is the ``tests/`` directory of the Django 1.11.29 sdist. The
tests run against the Django installed in this interpreter's environment, whose
``async_app_compat.pth`` startup hook applies the shims (this script never
imports async_app: the run proves the startup hook alone is enough).

Some of Django 1.11's tests fail on this machine whatever the compat layer
does. They are listed in EXCLUSIONS, each with the condition under which it is
known to fail and why; only tests whose condition holds here are skipped (with
the reason as the skip message), and an exclusion that names no test of the
run is an error, so the list cannot silently rot. Everything else must pass.
"""

import os
import runpy
import shutil
import subprocess
import sys
import tempfile
import unittest


def running_as_root():
    """True if this process runs as root, which reads and writes through file modes."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def xgettext_silent_on_bare_placeholders():
    """True if xgettext does not warn about two unnamed ``%s`` placeholders.

    Django 1.11's test expects the warning that older gettext-tools printed
    for ``i18n/commands/code.sample`` line 4; gettext 0.21 (Debian 12) does not.
    """
    if shutil.which("xgettext") is None:
        return False  # the test is skipped by Django itself then
    tmp = tempfile.mkdtemp()
    try:
        path = os.path.join(tmp, "code_sample.py")
        with open(path, "w") as f:
            f.write(
                'from django.utils.translation import ugettext\n\n'
                '# This will generate an xgettext warning\n'
                'my_string = ugettext("This string contain two placeholders: %s and %s" % (\'a\', \'b\'))\n'
            )
        proc = subprocess.run(
            ["xgettext", "--language=Python", "--keyword=ugettext", "--output=-", path],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
        )
        return "code_sample.py:4" not in proc.stderr
    finally:
        shutil.rmtree(tmp)


def unittest_prints_full_test_ids():
    """True on Python 3.11+, whose unittest prints ``name (module.Class.name)``."""
    return sys.version_info >= (3, 11)


# (test id or test module, condition under which it fails here, reason).
# A test module is left out by listing its package's other modules as labels.
EXCLUSIONS = [
    (
        "template_tests.test_loaders.FileSystemLoaderTests.test_permissions_error",
        running_as_root,
        "running as root: a 0o222 template stays readable, no 'Permission denied'",
    ),
    (
        "i18n.test_compilation.PoFileTests.test_no_write_access",
        running_as_root,
        "running as root: a read-only .mo file stays writable, no 'not writable location' error",
    ),
    (
        "file_uploads.tests.DirectoryCreationTests.test_readonly_root",
        running_as_root,
        "running as root: a read-only upload directory stays writable, no OSError",
    ),
    (
        "i18n.test_extraction.BasicExtractorTests.test_extraction_warning",
        xgettext_silent_on_bare_placeholders,
        "this xgettext (gettext 0.21) no longer warns about unnamed placeholders",
    ),
    (
        "test_runner.test_debug_sql.TestDebugSQL.test_output_verbose",
        unittest_prints_full_test_ids,
        "expects the pre-3.11 unittest test description 'name (module.Class)'",
    ),
    (
        "test_runner.test_parallel.RemoteTestResultTest.test_add_failing_subtests",
        unittest_prints_full_test_ids,
        "expects the pre-3.11 unittest subtest description 'name (module.Class) (index=0)'",
    ),
]


def _expand_labels(tests_dir, labels, excluded_modules):
    """Replace each label that contains an excluded test module by its other modules."""
    result = []
    for label in labels:
        inside = [m for m in excluded_modules if m.startswith(label + ".")]
        if not inside:
            result.append(label)
            continue
        package_dir = os.path.join(tests_dir, *label.split("."))
        for name in sorted(os.listdir(package_dir)):
            module = "%s.%s" % (label, name[:-3])
            if name.startswith("test") and name.endswith(".py") and module not in inside:
                result.append(module)
        missing = [
            m for m in inside if not os.path.exists(os.path.join(tests_dir, *m.split(".")) + ".py")
        ]
        if missing:
            raise SystemExit("django_smoke: excluded test modules do not exist: %s" % missing)
    return result


def _iter_tests(suite):
    # Django's ParallelTestSuite keeps its tests in ``subsuites``.
    for test in getattr(suite, "subsuites", suite):
        if isinstance(test, unittest.TestSuite):
            for t in _iter_tests(test):
                yield t
        else:
            yield test


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    tests_dir = os.path.abspath(argv[1])
    runtests_args = argv[2:]
    labels = [a for a in runtests_args if not a.startswith("-") and not a.isdigit()]

    active = [
        (test_id, reason)
        for test_id, condition, reason in EXCLUSIONS
        if test_id.split(".")[0] in labels and condition()
    ]
    for test_id, reason in active:
        print("excluded %s: %s" % (test_id, reason))
    sys.stdout.flush()
    modules = [
        t for t, _ in active if os.path.exists(os.path.join(tests_dir, *t.split(".")) + ".py")
    ]
    active = [(t, reason) for t, reason in active if t not in modules]
    expanded = _expand_labels(tests_dir, labels, modules)
    runtests_args = [a for a in runtests_args if a not in labels] + expanded

    from django.test import runner

    matched = set()
    build_suite = runner.DiscoverRunner.build_suite

    def build_suite_with_exclusions(self, *args, **kwargs):
        suite = build_suite(self, *args, **kwargs)
        wanted = dict(active)
        for test in _iter_tests(suite):
            reason = wanted.get(test.id())
            if reason is not None:
                # On the class, so the forked parallel workers see it too.
                cls, name = type(test), test._testMethodName
                setattr(cls, name, unittest.skip(reason)(getattr(cls, name)))
                matched.add(test.id())
        missing = sorted(set(wanted) - matched)
        if missing:
            raise SystemExit("django_smoke: exclusions match no test of this run: %s" % missing)
        return suite

    runner.DiscoverRunner.build_suite = build_suite_with_exclusions

    os.chdir(tests_dir)
    sys.path.insert(0, tests_dir)
    sys.argv = [os.path.join(tests_dir, "runtests.py")] + runtests_args
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv)
