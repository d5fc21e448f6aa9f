"""The three faults, each under load, each returning its figures and its checks.

* :func:`kill_worker`: ``kill -9`` of one worker. The design promises: the
  arbiter boots a replacement, and no request on a connection to another
  worker fails. Requests on the killed worker's connections are lost (at
  most one per connection: the one in flight, or the next one sent on the
  dead socket); a client must reconnect, as with any server process dying.
* :func:`reload_workers`: SIGHUP to the arbiter. New workers boot, the old
  ones finish their requests (answering ``Connection: close``) and exit:
  zero failed requests.
* :func:`database_outage`: PostgreSQL stopped for 5 s, then started again on
  the same port. Views that use the database answer Django's 500 page (no
  hang, no dropped connection, no crashed worker), the others are untouched,
  and the database views answer 200 again once it is back.

A check is ``(name, passed, detail)``.
"""

import asyncio
import os
import signal
import time

from .client import Connection
from .load import Load

FAULT_MIX = {"coro": 3, "sync": 2, "db_sync": 1, "db_coro": 1, "upload": 1, "stream_async": 1}
DB_MIX = {"db_sync": 3, "db_coro": 3, "coro": 2, "sync": 2}
DB_KINDS = ("db_sync", "db_coro")


async def _until(predicate, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        await asyncio.sleep(step)
    return None


async def reach(port, pids, timeout):
    """Open fresh connections until each worker in ``pids`` has answered one.

    The load's users keep their connections, so a new worker only gets the
    connections opened after it booted: this makes sure it serves. Returns
    the time the last of them answered, or None.
    """
    deadline = time.monotonic() + timeout
    missing = set(pids)
    while missing and time.monotonic() < deadline:
        conns = [Connection("127.0.0.1", port) for _ in range(4)]
        try:
            for conn in conns:
                await conn.open()
            for conn in conns:
                response = await conn.request("GET", "/coro/")
                if response.status == 200:
                    missing.discard(response.pid)
        except asyncio.CancelledError:
            raise
        except Exception:  # the worker is not up yet, or just went away
            await asyncio.sleep(0.05)
        finally:
            for conn in conns:
                conn.close()
    return None if missing else time.monotonic()


def _ms(seconds):
    return None if seconds is None else round(1000 * seconds)


async def kill_worker(server, live_pids, users=12, settle=2.0):
    """SIGKILL one worker under load; see the module docstring."""
    load = Load("127.0.0.1", server.port, seed=101)
    load.start(users, FAULT_MIX, time.monotonic() + 60, think=0.005)
    await asyncio.sleep(settle)
    before = live_pids()
    victim = before[0]
    pinned = {r.user for r in load.records if r.served == victim}
    t_kill = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    booted = await _until(lambda: set(server.worker_pids()) - set(before), 30)
    new = sorted(set(server.worker_pids()) - set(before))
    first = await reach(server.port, new, 30) if new else None
    await asyncio.sleep(1.0)
    load.stop()
    await load.wait()
    records = load.records
    on_victim = [r for r in records if not r.ok and r.pid == victim]
    elsewhere = [r for r in records if not r.ok and r.pid not in (victim, None)]
    unattributed = [r for r in records if not r.ok and r.pid is None]
    victim_users = [r.user for r in on_victim]
    figures = {
        "workers": len(before),
        "requests": len(records),
        "ok": sum(r.ok for r in records),
        "users_on_killed_worker": len(pinned),
        "lost_on_killed_worker": len(on_victim),
        "failed_on_other_workers": len(elsewhere),
        "failed_on_new_connections": len(unattributed),
        "replacement_booted_ms": _ms(booted and booted - t_kill),
        "replacement_first_response_ms": _ms(first and first - t_kill),
        "errors": sorted({r.detail for r in on_victim + elsewhere + unattributed})[:4],
    }
    checks = [
        (
            "kill -9: no failure on the other workers' connections",
            not elsewhere,
            "%d failed" % len(elsewhere),
        ),
        (
            "kill -9: no failure on connections opened after the kill",
            not unattributed,
            "%d failed" % len(unattributed),
        ),
        (
            "kill -9: at most one lost request per connection to the killed worker",
            len(victim_users) == len(set(victim_users)) and all(r.end >= t_kill for r in on_victim),
            "%d lost on %d connections" % (len(on_victim), len(pinned)),
        ),
        (
            "kill -9: the arbiter replaced the worker and it serves",
            first is not None,
            "first response from the new worker after %s ms"
            % figures["replacement_first_response_ms"],
        ),
    ]
    return figures, checks


async def reload_workers(server, live_pids, workers, users=12, settle=2.0):
    """SIGHUP the arbiter under load; see the module docstring."""
    load = Load("127.0.0.1", server.port, seed=202)
    load.start(users, FAULT_MIX, time.monotonic() + 60, think=0.005)
    await asyncio.sleep(settle)
    old = live_pids()
    t_hup = time.monotonic()
    server.signal(signal.SIGHUP)

    def switched():
        now = live_pids()
        return not set(old) & set(now) and len(now) == workers

    done = await _until(switched, 40)
    served_new = await reach(server.port, live_pids(), 20)
    await asyncio.sleep(1.0)
    load.stop()
    await load.wait()
    records = load.records
    failed = [r for r in records if not r.ok]
    during = [r for r in records if r.end >= t_hup and (done is None or r.start <= done)]
    figures = {
        "requests": len(records),
        "failed": len(failed),
        "requests_during_switch": len(during),
        "old_workers_gone_ms": _ms(done and done - t_hup),
        "max_latency_during_switch_ms": _ms(max((r.end - r.start for r in during), default=0)),
        "closed_connections_not_reused": load.reopened,
        "failures_ms_after_sighup": [
            (r.kind, _ms(r.start - t_hup), _ms(r.end - t_hup)) for r in failed
        ][:8],
        "errors": sorted({r.detail for r in failed})[:4],
    }
    checks = [
        (
            "SIGHUP: zero failed requests",
            not failed,
            "%d of %d failed" % (len(failed), len(records)),
        ),
        (
            "SIGHUP: every old worker exited, the new ones serve",
            done is not None and served_new is not None,
            "old workers gone after %s ms" % figures["old_workers_gone_ms"],
        ),
    ]
    return figures, checks


def _clean_500(record):
    return record.status == 500 and "Server Error (500)" in record.detail


async def database_outage(server, pg, down_for=5.0, users=16, settle=2.0, after=5.0):
    """Stop PostgreSQL for ``down_for`` seconds under load; see the module docstring."""
    loop = asyncio.get_event_loop()
    load = Load("127.0.0.1", server.port, seed=303)
    load.start(users, DB_MIX, time.monotonic() + 90, think=0.01)
    await asyncio.sleep(settle)
    t_stop = time.monotonic()
    await loop.run_in_executor(None, pg.stop, False)
    t_down = time.monotonic()
    await asyncio.sleep(max(0.0, down_for - (t_down - t_stop)))
    await loop.run_in_executor(None, pg.start)
    t_up = time.monotonic()
    await asyncio.sleep(after)
    load.stop()
    await load.wait()
    records = load.records
    db = [r for r in records if r.kind in DB_KINDS]
    other = [r for r in records if r.kind not in DB_KINDS]
    db_failed = [r for r in db if not r.ok]
    unclean = [r for r in db_failed if not _clean_500(r)]
    before = [r for r in db_failed if r.end < t_stop]
    outage = [r for r in db if r.end >= t_stop and r.start <= t_up]
    after_up = [r for r in db if r.start > t_up]
    first_ok = min((r.end for r in after_up if r.ok), default=None)
    late = [r for r in after_up if not r.ok]
    tail = [r for r in db if r.start > t_up + after / 2]
    other_failed = [r for r in other if not r.ok]
    figures = {
        "database_down_s": round(t_up - t_stop, 2),
        "db_requests": len(db),
        "db_requests_during_outage": len(outage),
        "db_500_during_outage": sum(_clean_500(r) for r in outage),
        "db_500_max_latency_ms": _ms(max((r.end - r.start for r in db_failed), default=0)),
        "db_unclean_failures": len(unclean),
        "db_500_after_restart": len(late),
        "first_db_200_after_restart_ms": _ms(first_ok and first_ok - t_up),
        "db_failed_in_last_half": sum(not r.ok for r in tail),
        "other_requests": len(other),
        "other_failed": len(other_failed),
        "errors": sorted({r.detail[:80] for r in unclean + other_failed})[:4],
    }
    checks = [
        (
            "database down: the database views answer clean 500s (no hang, no cut connection)",
            not unclean and figures["db_500_during_outage"] > 0,
            "%d clean 500s, %d other failures" % (figures["db_500_during_outage"], len(unclean)),
        ),
        ("database down: no failure before the outage", not before, "%d" % len(before)),
        (
            "database down: views without the database unaffected",
            not other_failed,
            "%d of %d failed" % (len(other_failed), len(other)),
        ),
        (
            "database back: the database views recover",
            first_ok is not None and tail and not any(not r.ok for r in tail),
            "first 200 %s ms after the restart, %d failures in the last %.0f s"
            % (
                figures["first_db_200_after_restart_ms"],
                figures["db_failed_in_last_half"],
                after / 2,
            ),
        ),
    ]
    return figures, checks
