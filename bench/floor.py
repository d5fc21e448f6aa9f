"""The floor's Django half: Django 1.11's stock ``WSGIHandler`` called in process.

``python -m bench.floor SECONDS`` prints, as JSON, the CPU microseconds per
request of ``WSGIHandler()(environ, start_response)`` for the trivial sync
hello (``/trivial-hello/?delay=0``, ``bench/views.py``: the hello's work
without its wait), no server and no socket,
behind ``CommonMiddleware`` only (``common``) and behind montage's seven
middleware (``seven``, ``bench/settings.py``). One request at a time, the
response iterated and closed as a WSGI server would; CPU time of the process
(``time.process_time``), so other load on the machine counts little.
``python -m bench.floor --serve KEY N`` just answers N requests (for
``bench/server_cost.py``'s instruction counts). ``bench/run.py`` runs it
once per round, pinned to CPU 0 like the servers, in
``bench.harness.STOCK_DJANGO_ENV``: Django 1.11 as it is, with only the
compat layer that lets it run on this Python; none of the Django 5.2
backports (which wrap, for instance, ``Signal.send``), none of
:mod:`async_app.speedups` (Django's own code made faster).
"""

import io
import json
import os
import sys
import time

import async_app  # noqa: F401  (compat shims: Django 1.11 on new Pythons)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

STACKS = [
    # key, middleware
    ("common", ["django.middleware.common.CommonMiddleware"]),
    ("seven", list(settings.MIDDLEWARE)),
]


def environ_for(path, query="delay=0"):
    """A GET environ as gunicorn would build it for ``path``."""
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _start_response(status, headers, exc_info=None):
    if not status.startswith("200"):
        raise RuntimeError("the floor's hello answered %s" % status)


def stock_handler(middleware):
    """Django's stock handler with ``middleware`` (loaded at construction)."""
    with override_settings(MIDDLEWARE=middleware):
        return WSGIHandler()


def answer(handler, path="/trivial-hello/"):
    """One request to ``handler``, its response iterated and closed as a WSGI server would."""
    response = handler(environ_for(path), _start_response)
    for _chunk in response:
        pass
    response.close()


def cpu_us_per_request(handler, seconds, path="/trivial-hello/"):
    """CPU µs per request of ``handler`` over at least ``seconds`` of CPU time."""
    done = 0
    started = time.process_time()
    deadline = started + seconds
    while time.process_time() < deadline:
        for _ in range(100):
            answer(handler, path)
        done += 100
    return (time.process_time() - started) * 1e6 / done


def measure(seconds):
    """``{stack key: CPU µs per request}`` after a short warm-up of each stack."""
    handlers = {key: stock_handler(middleware) for key, middleware in STACKS}
    result = {}
    for key, _ in STACKS:
        cpu_us_per_request(handlers[key], min(seconds / 4.0, 0.5))
        result[key] = cpu_us_per_request(handlers[key], seconds)
    return result


def serve(key, count):
    """Answer ``count`` requests of stack ``key`` (``bench/server_cost.py`` counts their cost)."""
    handler = stock_handler(dict(STACKS)[key])
    for _ in range(count):
        answer(handler)


def main():
    """Command line: SECONDS of CPU per stack (prints the JSON), or ``--serve KEY N``."""
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], int(sys.argv[3]))
        return
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    print(json.dumps(measure(seconds)))


if __name__ == "__main__":
    main()
