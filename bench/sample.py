"""Where a served request's time goes: ``python -m bench.sample SERVER [SECONDS]``.

Starts one of ``bench.server_cost``'s gunicorn servers (``coroutine``,
``django_common``, ``django_seven_uv``, ...) with a sampling profiler in its
worker (gunicorn's ``post_worker_init``): every 0.5 ms of the worker's CPU
time (``SIGPROF``) it records the Python stack of the main thread. After a
warm-up, the server gets sequential keep-alive requests for SECONDS (default
10); then the share of samples is printed by package (self time: where the
CPU was), and the functions with the most self and inclusive samples.

Sampling, unlike ``cProfile``, leaves the request's cost nearly as it is
(a signal handler every 0.5 ms); a sample lands where the interpreter next
checks for signals, so a function's self share is approximate, the shares
of packages and inclusive shares less so.
"""

import collections
import json
import os
import signal
import sys
import time

INTERVAL = 0.0005
# Packages, most specific first: a file belongs to the first its path holds.
PACKAGES = (
    "async_app/server",
    "async_app",
    "aiohttp",
    "django_wsgi",
    "webob",
    "django",
    "asyncio",
    "gunicorn",
    "multidict",
    "yarl",
    "bench",
    "montage",
)

_self = collections.Counter()
_inclusive = collections.Counter()
_taken = [0]
_on = [False]


def _key(code):
    path = code.co_filename.split("/site-packages/")[-1]
    return "%s:%d %s" % (path, code.co_firstlineno, code.co_name)


def _sample(signum, frame):
    if not _on[0] or frame is None:
        return
    _taken[0] += 1
    _self[_key(frame.f_code)] += 1
    seen = set()
    while frame is not None:
        key = _key(frame.f_code)
        if key not in seen:
            seen.add(key)
            _inclusive[key] += 1
        frame = frame.f_back


def _toggle(signum, frame):
    """First SIGUSR2: forget the warm-up, start; second: stop and write the samples."""
    if not _on[0]:
        _self.clear()
        _inclusive.clear()
        _taken[0] = 0
        _on[0] = True
        return
    _on[0] = False
    signal.setitimer(signal.ITIMER_PROF, 0, 0)
    path = os.environ["BENCH_SAMPLE_FILE"]
    with open(path + ".tmp", "w") as f:
        json.dump({"samples": _taken[0], "self": _self, "inclusive": _inclusive}, f)
    os.rename(path + ".tmp", path)


def post_worker_init(worker):
    """gunicorn's hook: the sampler in the worker, SIGUSR2 to start and stop it."""
    signal.signal(signal.SIGPROF, _sample)
    signal.signal(signal.SIGUSR2, _toggle)
    signal.setitimer(signal.ITIMER_PROF, INTERVAL, INTERVAL)


def package(key):
    """The package (or file) a sampled function's key belongs to."""
    path = key.split(":", 1)[0]
    for name in PACKAGES:
        if name + "/" in path or path.startswith(name + "."):
            return name
    return os.path.basename(path)


def sample(name, seconds, warmup=200):
    """``{"samples", "self", "inclusive", "requests"}`` of server ``name`` over ``seconds``."""
    from bench.server_cost import between_toggles

    requests = [0]

    def serve(client):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            client.request()
            requests[0] += 1

    result = between_toggles(name, "bench.sample", "samples.json", serve, warmup)
    result["requests"] = requests[0]
    return result


def report(result, top=40):
    """The printed tables: packages, then functions by self and by inclusive samples."""
    n = result["samples"] or 1
    packages = collections.Counter()
    for key, count in result["self"].items():
        packages[package(key)] += count
    lines = [
        "%d samples, %d requests" % (result["samples"], result["requests"]),
        "",
        "package (self):",
    ]
    lines += ["  %5.1f%% %s" % (100.0 * c / n, k) for k, c in packages.most_common()]
    for title in ("self", "inclusive"):
        lines += ["", "functions (%s):" % title]
        ranked = sorted(result[title].items(), key=lambda kv: -kv[1])[:top]
        lines += ["  %5.1f%% %s" % (100.0 * c / n, k) for k, c in ranked]
    return "\n".join(lines)


def main():
    """Command line: SERVER [SECONDS]."""
    if not sys.argv[1:]:
        sys.exit(__doc__.split("\n\n")[0])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    print(report(sample(sys.argv[1], seconds)))


if __name__ == "__main__":
    main()
