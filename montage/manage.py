#!/usr/bin/env python
"""Django's command-line utility for the montage project.

``python montage/manage.py <command>`` works from any directory: the project
is the ``montage`` package at the top of the repository, so that gunicorn can
load ``montage.wsgi:application`` from the repository root.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)

if __name__ == "__main__":
    # Python put this script's directory first on sys.path; drop it so that
    # ``photos`` is only importable as ``montage.photos`` (never twice).
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
    sys.path.insert(0, REPO_ROOT)
    # The compat shims for Django 1.11 on new Pythons, before Django.
    import async_app  # noqa: F401

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "montage.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
