"""Python calls counted in a serving process, between two ``SIGUSR2`` (bench/server_cost.py).

:func:`install` (gunicorn's ``post_worker_init`` hook, or before the bare
server starts) sets a profile function on the main thread and on threads
started later; the first ``SIGUSR2`` starts counting, the second writes
``{"call": n, "c_call": n, "functions": {name: n}}`` as JSON to ``$BENCH_CALLCOUNT_FILE``.
"""

import json
import os
import signal
import sys
import threading

_counts = {"call": 0, "c_call": 0}
_on = [False]
_by_function = {}


def _profile(frame, event, arg):
    if _on[0] and event in _counts:
        _counts[event] += 1
        if event == "call":
            code = frame.f_code
            key = "%s:%d %s" % (
                os.path.basename(code.co_filename),
                code.co_firstlineno,
                code.co_name,
            )
        else:
            key = "C " + getattr(arg, "__qualname__", repr(arg))
        _by_function[key] = _by_function.get(key, 0) + 1


def _toggle(signum, frame):
    if not _on[0]:
        _counts["call"] = _counts["c_call"] = 0
        _by_function.clear()
        _on[0] = True
        return
    _on[0] = False
    with open(os.environ["BENCH_CALLCOUNT_FILE"], "w") as f:
        json.dump(dict(_counts, functions=_by_function), f)


def install():
    """Count calls from now on, when told to (``SIGUSR2``)."""
    signal.signal(signal.SIGUSR2, _toggle)
    threading.setprofile(_profile)
    sys.setprofile(_profile)


def count(func):
    """Call ``func()`` with calls counted (this thread): the counts, as :func:`_toggle` writes them."""
    _counts["call"] = _counts["c_call"] = 0
    _by_function.clear()
    sys.setprofile(_profile)
    _on[0] = True
    try:
        func()
    finally:
        _on[0] = False
        sys.setprofile(None)
    return dict(_counts, functions=dict(_by_function))


def post_worker_init(worker):
    """gunicorn's hook: :func:`install` in the worker."""
    install()
