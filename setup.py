"""Packaging for async_app: asyncio coroutine views for legacy Django 1.11 apps."""

import os

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.develop import develop

HERE = os.path.dirname(os.path.abspath(__file__))
STARTUP_HOOK = "async_app_compat.pth"


def _editable_startup_hook():
    """The startup hook for an editable install: it loads this checkout's compat.py."""
    with open(os.path.join(HERE, "async_app", STARTUP_HOOK)) as f:
        text = f.read()
    installed = "sitedir + '/async_app/compat.py'"
    if installed not in text:
        raise RuntimeError(
            "%s: cannot find %s to point at the checkout" % (STARTUP_HOOK, installed)
        )
    return text.replace(installed, repr(os.path.join(HERE, "async_app", "compat.py")))


class build_py_with_startup_hook(build_py):
    """Ship ``async_app_compat.pth`` at the top of site-packages.

    Python runs the ``import`` line of every ``.pth`` file in site-packages at
    interpreter start, so the compat shims reach processes that never import
    async_app (an untouched ``manage.py``, ``django-admin``, subprocesses).

    An editable install (``pip install -e .``, PEP 660) builds into a
    throwaway directory and installs nothing from it, so there the hook goes
    straight into the wheel's root (the ``install`` command's ``install_lib``,
    which setuptools points at the unpacked editable wheel), aimed at this
    checkout's ``compat.py``.
    """

    def run(self):
        build_py.run(self)
        if getattr(self, "editable_mode", False):
            target = self.get_finalized_command("install").install_lib
            with open(os.path.join(target, STARTUP_HOOK), "w") as f:
                f.write(_editable_startup_hook())
            return
        self.copy_file(
            os.path.join(HERE, "async_app", STARTUP_HOOK),
            os.path.join(self.build_lib, STARTUP_HOOK),
            preserve_mode=False,
        )


class develop_with_startup_hook(develop):
    """``setup.py develop`` (legacy editable installs): the hook, aimed at the checkout."""

    def install_for_development(self):
        develop.install_for_development(self)
        if not self.dry_run:
            with open(os.path.join(self.install_dir, STARTUP_HOOK), "w") as f:
                f.write(_editable_startup_hook())
            self.outputs.append(os.path.join(self.install_dir, STARTUP_HOOK))


setup(
    name="async_app",
    version="0.1.0",
    description="asyncio coroutine views for legacy Django 1.11 apps, served by a gunicorn aiohttp worker",
    long_description=open(os.path.join(HERE, "README.md")).read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["async_app", "async_app.*"]),
    package_data={"async_app": ["*.pth"]},
    cmdclass={"build_py": build_py_with_startup_hook, "develop": develop_with_startup_hook},
    python_requires=">=3.7",
    install_requires=[
        "Django>=1.11.29,<2.0",
        # django-wsgi 1.0b1 pins six==1.10.0. That six only offers the
        # find_module() import protocol, which Python 3.12 stopped calling, so
        # ``six.moves`` fails to import there. We keep the pin (pip must be
        # able to satisfy it) and async_app.compat appends a fallback finder
        # to sys.meta_path that adapts find_module()-only finders (six 1.10 and
        # Django's bundled django.utils.six alike) on 3.12+.
        "django-wsgi",
        "gunicorn",
        "aiohttp",
        # Opaque middleware (function middleware, a custom __call__) runs on
        # the loop on a greenlet bridge (async_app.greenlet_bridge).
        "greenlet",
        # Not asgiref: on Python 3.7 pip resolves asgiref 3.7.2, whose Local
        # tracks asyncio tasks rather than contextvars and only follows its
        # own sync_to_async/async_to_sync, which cannot target our two thread
        # pools or run inline under the test client. async_app.sync and
        # async_app.locals are the ~150 lines we need instead.
        # Python 3.13 removed the cgi module that Django 1.11 imports.
        "legacy-cgi; python_version >= '3.13'",
        # Python 3.13 removed the crypt module (CryptPasswordHasher); crypt-r
        # is its maintained copy and installs a ``crypt`` module.
        "crypt-r; python_version >= '3.13'",
    ],
    extras_require={
        # async_app.pubsub's Redis backend: redis.asyncio (redis-py 4.2+)
        "redis": ["redis>=4.2"],
        "test": [
            # async_app.pubsub's Redis backend (tests/test_pubsub.py)
            "redis>=4.2",
            "pytest",
            # make lint (ruff.toml)
            "ruff",
            "Pillow",
            # so the AiohttpUVLoopWorker tests run on every Python
            "uvloop",
            # montage and Django's suite on PostgreSQL (async_app[postgres])
            "psycopg2-binary>=2.8.6,<3",
            # tests/test_drf*.py (the drf extra)
            "djangorestframework>=3.11,<3.12",
            "django-filter>=2.0,<2.3",
        ],
        "uvloop": ["uvloop"],
        # Django 1.11's PostgreSQL backend; pip picks the newest 2.9.x this
        # Python has wheels for (2.9.9 on 3.7). async_app.compat makes 2.9
        # work with Django 1.11. Projects that build psycopg2 from source can
        # install ``psycopg2`` instead: the shims serve both.
        "postgres": ["psycopg2-binary>=2.8.6,<3"],
        # Coroutine handlers in Django REST framework (async_app.drf): DRF
        # 3.11 and django-filter 2.2 are the last releases for Django 1.11.
        "drf": ["djangorestframework>=3.11,<3.12", "django-filter>=2.0,<2.3"],
    },
    # async_app.pubsub's backends beyond the in-process one: PostgreSQL
    # LISTEN/NOTIFY uses the "postgres" extra's psycopg2; Redis pub/sub uses
    # redis-py's asyncio client (pip picks 5.0.x on Python 3.7).
    classifiers=[
        "Framework :: Django :: 1.11",
        "Programming Language :: Python :: 3.7",
        "Programming Language :: Python :: 3.13",
    ],
)
