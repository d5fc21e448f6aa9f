"""``python -m soak``: the soak and the faults, with figures; exit status 1 if a check fails.

One throwaway PostgreSQL (tests.services), one gunicorn (tests.gunicorn_fixture)
with ``AiohttpWorker`` serving ``soak.wsgi``; both are stopped on the way
out, whatever happened. Then:

1. warm-up requests of every kind, and an idle reading of each worker;
2. the soak: ``--duration`` seconds of the mixed load of ``soak.load.MIX``,
   each worker's RSS, threads and file descriptors read every
   ``--interval`` seconds; RSS growth is measured from the end of
   ``--warmup`` on;
3. idle again: file descriptors back to the idle reading, no request left in
   flight, every stream closed (``/stats/`` of each worker);
4. the faults of ``soak.faults`` (``--no-faults`` skips them).

``--short`` is CI's version: 12 s of soak, shorter faults, and an RSS bound
of 100% that only a gross leak breaks (12 s measure warm-up, not steady
state; RSS grew 30-40% in them on Python 3.7). ``--json PATH`` also writes
every figure.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

from tests.gunicorn_fixture import GunicornServer, pid_alive
from tests.services import PostgresServer

from . import faults
from .client import Connection
from .load import KINDS, MIX, HANG_UPS, Load, summarize
from .probe import Sampler, memory_trend, rss_growth, rss_trend
from .report import EXPECTED_ERRORS, fds_text, log_errors, report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m soak", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--duration",
        type=float,
        default=float(os.environ.get("SOAK_DURATION", 600)),
        help="seconds of mixed load (default 600, or $SOAK_DURATION)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds before RSS growth is measured (default: a fifth, at most 120)",
    )
    parser.add_argument("--interval", type=float, default=None, help="seconds between readings")
    parser.add_argument("--users", type=int, default=24, help="concurrent users of the soak")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--rss-limit",
        type=float,
        default=None,
        help="allowed RSS growth after warm-up, percent (default 5; 100 with --short)",
    )
    parser.add_argument("--short", action="store_true", help="CI's version: 12 s of soak")
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    if args.short:
        args.duration = min(args.duration, 12.0)
    if args.warmup is None:
        args.warmup = min(args.duration / 5.0, 120.0)
    if args.interval is None:
        args.interval = max(1.0, min(2.0, args.duration / 120.0))
    if args.rss_limit is None:
        args.rss_limit = 100.0 if args.short else 5.0
    return args


def migrate(env):
    """Create the soak project's tables in the throwaway database."""
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


class Suite:
    """One run: the server, the database, the readings, the figures, the checks."""

    def __init__(self, args, server, pg):
        self.args = args
        self.server = server
        self.pg = pg
        self.sampler = Sampler(self.live_pids, server.port, pg.port)
        self.figures = {}
        self.checks = []
        self.hang_ups_waiting = 0

    def live_pids(self):
        """The workers running now (booted according to the log, not exited)."""
        return sorted(p for p in set(self.server.worker_pids()) if pid_alive(p))

    async def run(self):
        """Every phase in turn (see the module docstring)."""
        await self.warm_up()
        idle_before = await self.idle_reading()
        stats_before = await self.worker_stats()
        await self.soak()
        idle_after = await self.idle_reading()
        stats_after = await self.worker_stats()
        self.check_idle(idle_before, idle_after, stats_before, stats_after)
        if not self.args.no_faults:
            for name, fault in (
                ("kill_worker", lambda: faults.kill_worker(self.server, self.live_pids)),
                (
                    "sighup",
                    lambda: faults.reload_workers(self.server, self.live_pids, self.args.workers),
                ),
                (
                    "database_outage",
                    lambda: faults.database_outage(
                        self.server, self.pg, after=3.0 if self.args.short else 5.0
                    ),
                ),
            ):
                figures, checks = await fault()
                self.figures[name] = figures
                self.checks.extend(checks)

    async def warm_up(self):
        """Every kind a few times on each of several connections, then every view thread busy."""
        load = Load("127.0.0.1", self.server.port, seed=1)
        load.start(4 * self.args.workers, dict.fromkeys(KINDS, 1), time.monotonic() + 3, think=0)
        await load.wait()
        self.hang_ups_waiting += sum(r.kind == "gone_waiting" for r in load.records)
        await self.saturate()

    async def saturate(self, rounds=10):
        """Keep every view thread of every worker busy at once until no worker grows a thread.

        The view pool starts its threads on demand, and each thread gets a
        glibc malloc arena of its own when it first allocates: a less busy
        worker that only reaches its full pool minutes into the soak grows by
        10-15% then, with a flat Python heap (docs/soak.md). Warming up to
        that steady state first makes the RSS baseline honest.
        """
        n = (self.args.threads + 4) * self.args.workers
        last = None
        for _ in range(rounds):
            conns = [Connection("127.0.0.1", self.server.port) for _ in range(n)]
            try:
                await asyncio.gather(
                    *(c.request("GET", "/sync/?delay=0.3") for c in conns), return_exceptions=True
                )
            finally:
                for conn in conns:
                    conn.close()
            threads = {pid: r["threads"] for pid, r in self.sampler.take().items()}
            if threads == last:
                break
            last = threads

    async def idle_reading(self):
        """Each worker's reading once idle keep-alive connections have timed out."""
        # the worker looks for timed-out idle connections once a second
        await asyncio.sleep(self.server.settings["keepalive"] + 1.5)
        return self.sampler.take()

    async def worker_stats(self, rounds=25):
        """``/stats/`` of every live worker (connections are spread over them)."""
        wanted = set(self.live_pids())
        stats = {}
        for _ in range(rounds):
            conns = [Connection("127.0.0.1", self.server.port) for _ in range(4 * len(wanted))]
            try:
                for conn in conns:
                    await conn.open()
                for conn in conns:
                    response = await conn.request("GET", "/stats/")
                    data = json.loads(response.body.decode())
                    stats[data["pid"]] = data
            finally:
                for conn in conns:
                    conn.close()
            if wanted <= set(stats):
                break
        return stats

    async def soak(self):
        """The mixed load, with readings every ``interval`` seconds."""
        args = self.args
        t0 = time.monotonic()
        deadline = t0 + args.duration
        load = Load("127.0.0.1", self.server.port, seed=1000)
        load.start(args.users, MIX, deadline)
        while time.monotonic() < deadline:
            self.sampler.take()
            await asyncio.sleep(min(args.interval, max(0.0, deadline - time.monotonic())))
        self.sampler.take()
        await load.wait()
        elapsed = time.monotonic() - t0
        kinds = summarize(load.records)
        served = [r for r in load.records if r.kind not in HANG_UPS]
        failed = [r for r in served if not r.ok]
        workers = {}
        for pid in self.live_pids():
            series = self.sampler.series(pid, t0 + args.warmup)
            medians = rss_growth(series, window=max(3 * args.interval, args.duration / 20.0))
            trend = rss_trend(series)
            everything = self.sampler.series(pid, t0)
            workers[pid] = {
                "rss_kb_after_warmup": trend and trend[0],
                "rss_kb_at_end": trend and trend[1],
                "rss_growth_pct": trend and round(trend[2], 2),
                "rss_median_kb_after_warmup": medians and medians[0],
                "rss_median_kb_at_end": medians and medians[1],
                "rss_median_growth_pct": medians and round(medians[2], 2),
                "rss_kb_max": max(r["rss_kb"] for t, r in everything),
                "fds_max": max(r["fds"]["total"] for t, r in everything),
                "client_fds_max": max(r["fds"]["clients"] for t, r in everything),
                "threads_max": max(r["threads"] for t, r in everything),
                "threads_after_warmup": series[0][1]["threads"] if series else None,
                "arenas_after_warmup": series[0][1]["memory"]["n_arenas"] if series else None,
                "arenas_max": max(r["memory"]["n_arenas"] for t, r in everything),
                "readings": len(everything),
                "rss_series_kb": [(round(t - t0), r["rss_kb"]) for t, r in everything],
                "memory_series_kb": [
                    (round(t - t0), dict(r["memory"], threads=r["threads"])) for t, r in everything
                ],
                "memory_trend_kb": memory_trend(series),
            }
        self.figures["soak"] = {
            "duration_s": round(elapsed, 1),
            "warmup_s": args.warmup,
            "users": args.users,
            "workers": args.workers,
            "threads": args.threads,
            "requests": len(served),
            "failed": len(failed),
            "requests_per_s": round(len(served) / elapsed, 1),
            "hang_ups": len(load.records) - len(served),
            "kinds": kinds,
            "per_worker": workers,
            "closed_connections_not_reused": load.reopened,
            "failures_s": [
                (r.kind, round(r.start - t0, 3), round(r.end - t0, 3), r.detail) for r in failed
            ][:10],
        }
        self.hang_ups_waiting += sum(r.kind == "gone_waiting" for r in load.records)
        self.checks.append(
            (
                "soak: every request answered correctly",
                not failed,
                "%d of %d failed" % (len(failed), len(served)),
            )
        )
        self.checks.append(
            (
                "soak: every worker survived",
                len(workers) == args.workers,
                "%d live workers" % len(workers),
            )
        )
        for pid, w in sorted(workers.items()):
            self.checks.append(
                (
                    "soak: worker %d RSS growth after warm-up < %g%%" % (pid, args.rss_limit),
                    w["rss_growth_pct"] is not None and w["rss_growth_pct"] < args.rss_limit,
                    "trend %s kB -> %s kB (%s%%); medians of the first and last %ds: %s%%; "
                    "malloc arenas %s after warm-up, %s at most; threads %s after warm-up, %s at most"
                    % (
                        w["rss_kb_after_warmup"],
                        w["rss_kb_at_end"],
                        w["rss_growth_pct"],
                        max(3 * args.interval, args.duration / 20.0),
                        w["rss_median_growth_pct"],
                        w["arenas_after_warmup"],
                        w["arenas_max"],
                        w["threads_after_warmup"],
                        w["threads_max"],
                    ),
                )
            )

    def check_idle(self, before, after, stats_before, stats_after):
        """After the load: descriptors as when idle before it, no request or stream left."""
        self.figures["idle"] = {
            "before": before,
            "after": after,
            "stats_before": stats_before,
            "stats_after": stats_after,
        }
        for pid in sorted(after):
            b, a = before.get(pid), after[pid]
            if b is None:
                continue
            fb, fa = b["fds"], a["fds"]
            same = all(
                fa[k] == fb[k] for k in ("clients", "listen", "files", "other", "other_sockets")
            )
            self.checks.append(
                (
                    "idle: worker %d holds the descriptors it held before the soak" % pid,
                    same and fa["clients"] == 0 and fa["db"] <= self.args.threads + 1,
                    "before %s, after %s" % (fds_text(fb), fds_text(fa)),
                )
            )
        for pid in sorted(set(after)):
            s = stats_after.get(pid)
            self.checks.append(
                (
                    "idle: worker %d has no request in flight and every stream closed" % pid,
                    s is not None
                    and s["inflight"] == 0
                    and s["streams_opened"] == s["streams_closed"],
                    "not reached"
                    if s is None
                    else "in flight %d, streams %d opened / %d closed, %d asyncio tasks"
                    % (s["inflight"], s["streams_opened"], s["streams_closed"], s["tasks"]),
                )
            )
        reached = [s for s in stats_after.values() if s["pid"] in after]
        cancelled = sum(s["cancelled"] for s in reached)
        overslept = sum(s["long_waits_completed"] for s in reached)
        self.checks.append(
            (
                "hang-ups: every coroutine view whose client left was cancelled",
                len(reached) == len(after) and overslept == 0 and cancelled > 0,
                "%d hang-ups while a view waited: %d views cancelled, %d ran to their end"
                % (self.hang_ups_waiting, cancelled, overslept),
            )
        )


def main(argv=None):
    """Run the suite; return the exit status."""
    args = parse_args(argv)
    started = time.monotonic()
    with PostgresServer() as pg, tempfile.TemporaryDirectory(prefix="soak-marks-") as marks:
        # the hang-ups' clients and the views they wait for (soak.load.gone_waiting)
        os.environ["SOAK_MARK_DIR"] = marks
        env = {
            "DJANGO_SETTINGS_MODULE": "soak.settings",
            "SOAK_MARK_DIR": marks,
            "SOAK_PG_HOST": "127.0.0.1",
            "SOAK_PG_PORT": str(pg.port),
            "SOAK_PG_USER": pg.user,
            "SOAK_PG_NAME": pg.dbname,
        }
        full_env = dict(os.environ, PYTHONPATH=ROOT, **env)
        migrate(full_env)
        server = GunicornServer(
            "soak.wsgi:application",
            env=env,
            workers=args.workers,
            threads=args.threads,
            keepalive=2,
            timeout=30,
            graceful_timeout=10,
            backlog=2048,
            startup_path="/coro/",
        )
        try:
            server.start()
            suite = Suite(args, server, pg)
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(suite.run())
            finally:
                loop.close()
        finally:
            server.stop()
        log = server.log()
    suite.figures["total_s"] = round(time.monotonic() - started, 1)
    errors = log_errors(log)
    suite.figures["log_errors"] = errors
    unexpected = {e: n for e, n in errors.items() if not e.startswith(EXPECTED_ERRORS)}
    suite.checks.append(
        (
            "log: no error but the database outage's and the killed worker's",
            not unexpected,
            ", ".join("%s x%d" % i for i in unexpected.items())
            or "%d errors, all expected" % sum(errors.values()),
        )
    )
    report(suite.figures, suite.checks)
    print(
        "total %.0f s; gunicorn log %s: %s"
        % (
            suite.figures["total_s"],
            server.log_path,
            ", ".join("%s x%d" % item for item in sorted(errors.items())) or "no errors",
        )
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"figures": suite.figures, "checks": suite.checks}, f, indent=1, default=str)
    return 1 if any(not passed for _, passed, _ in suite.checks) else 0
