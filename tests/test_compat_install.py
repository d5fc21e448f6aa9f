"""The ``async_app_compat.pth`` startup hook in both install modes.

``pip install .`` copies the hook through setup.py's ``build_py``; an editable
install (``pip install -e .``, PEP 660, how contributors install) never runs
that copy, so setup.py writes the hook into the editable wheel itself, aimed
at the checkout's ``compat.py``. Each mode installs a copy of the project into
a fresh venv (its dependencies come from this venv through a path entry) and
runs Django there in a subprocess that never imports async_app, as Django's
``django-admin`` subprocesses do.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHECK = textwrap.dedent('''
    import json, sys
    startup = sys.modules.get("_async_app_compat_startup")
    import django.db.models                    # collections ABCs (3.10+)
    from django.utils.six.moves import urllib  # find_module() fallback (3.12+)
    print(json.dumps({
        "hook": startup.__file__ if startup else None,
        "async_app_imported": "async_app" in sys.modules,
    }))
''')


def _purelib(python):
    return subprocess.check_output(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        universal_newlines=True,
    ).strip()


@pytest.fixture(scope="module", params=["regular", "editable"])
def installed(request, tmp_path_factory):
    """(mode, project copy, venv python) with a copy of the project installed."""
    tmp = tmp_path_factory.mktemp("install-" + request.param)
    project = str(tmp / "project")
    os.makedirs(project)
    for name in ("setup.py", "README.md"):
        shutil.copy(os.path.join(ROOT, name), project)
    # A copy: pip builds in the project's ./build, which parallel runs would share.
    shutil.copytree(
        os.path.join(ROOT, "async_app"),
        os.path.join(project, "async_app"),
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    venv = str(tmp / "venv")
    subprocess.check_call([sys.executable, "-m", "venv", "--without-pip", venv])
    python = os.path.join(venv, "bin", "python")
    # Django & co. from this venv (a plain path entry: its .pth
    # files, our own hook among them, are not run there).
    with open(os.path.join(_purelib(python), "deps.pth"), "w") as f:
        f.write(sysconfig.get_paths()["purelib"] + "\n")
    command = [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps"]
    command += ["-e", project] if request.param == "editable" else [project]
    proc = subprocess.run(
        command,
        cwd=str(tmp),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout
    return request.param, project, python


def test_startup_hook_runs_in_both_install_modes(installed, tmp_path):
    import json

    mode, project, python = installed
    assert os.path.exists(os.path.join(_purelib(python), "async_app_compat.pth"))
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [python, "-c", CHECK],
        cwd=str(tmp_path),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "compat shims not applied" not in proc.stderr
    result = json.loads(proc.stdout)
    assert result["async_app_imported"] is False
    if mode == "editable":  # the checkout's own compat.py, edits take effect at once
        assert result["hook"] == os.path.join(project, "async_app", "compat.py")
    else:
        assert result["hook"] == os.path.join(_purelib(python), "async_app", "compat.py")


def test_django_admin_subprocess_in_both_install_modes(installed, tmp_path):
    """``python -m django`` (what django-admin runs) with URL patterns that need the shims."""
    mode, project, python = installed
    (tmp_path / "probe_settings.py").write_text(
        textwrap.dedent("""
        SECRET_KEY = "probe"
        INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
        DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
        ROOT_URLCONF = "probe_urls"
    """)
    )
    (tmp_path / "probe_urls.py").write_text(
        textwrap.dedent("""
        from django.conf.urls import url
        from django.http import HttpResponse
        urlpatterns = [url(r"^(?i)hello/$", lambda request: HttpResponse("hi"), name="hello")]
    """)
    )
    env = dict(
        os.environ,
        PYTHONPATH=str(tmp_path),
        DJANGO_SETTINGS_MODULE="probe_settings",
        PYTHONWARNINGS="ignore",
    )
    proc = subprocess.run(
        [python, "-m", "django", "check"],
        cwd=str(tmp_path),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout
    assert "System check identified no issues" in proc.stdout
