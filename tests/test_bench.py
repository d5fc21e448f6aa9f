"""bench/: wrk's output parsed, the floor's arithmetic, the goal rows, the docs section, the harness."""

import asyncio
import os
import time

import pytest

from bench import report, rows
from bench.harness import BareAiohttp, cpu_seconds, hold_connections, open_fds, parse_wrk, rss_kb

# wrk 4.1's output, as run here against bench/bare_aiohttp.py (plus the two error lines
# wrk adds when it has errors to report).
WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:48579/
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    11.12ms   15.14ms  72.00ms   85.95%
    Req/Sec     1.71k     1.10k    3.75k    70.00%
  Latency Distribution
     50%    4.82ms
     75%   12.77ms
     90%   34.30ms
     99%     1.07s
  1696 requests in 1.00s, 273.28KB read
  Socket errors: connect 0, read 12, write 1, timeout 3
  Non-2xx or 3xx responses: 5
Requests/sec:   1693.12
Transfer/sec:    272.82KB
"""


def test_parse_wrk():
    result = parse_wrk(WRK_OUTPUT)
    assert result["rps"] == 1693.12
    assert result["requests"] == 1696
    assert result["p50"] == pytest.approx(4.82)
    assert result["p99"] == pytest.approx(1070.0)
    assert result["errors"] == 16
    assert result["non2xx"] == 5
    assert result["elapsed"] == pytest.approx(1.0)


def test_parse_wrk_of_a_failed_run_reads_as_nothing_served():
    result = parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")
    assert result["rps"] == 0.0 and result["requests"] == 0


def test_a_measurement_adds_up_its_slices():
    from bench import run

    slices = [
        dict(parse_wrk(WRK_OUTPUT), cpu=0.5, seconds=1.0),
        dict(parse_wrk(WRK_OUTPUT.replace("1696 requests", "304 requests")), cpu=0.5, seconds=1.0),
    ]
    slices[1]["p99"] = 5.0
    result = run.combine("bare", slices)
    assert result["requests"] == 2000
    assert result["rps"] == pytest.approx(1000.0)  # 2000 requests in 2 s
    assert result["cpu_rps"] == pytest.approx(2000.0)  # in 1 CPU-second
    assert result["p99"] == pytest.approx(1070.0)  # the worst slice's
    assert result["errors"] == 32 and result["non2xx"] == 10


def test_a_round_interleaves_its_servers_slices(monkeypatch):
    from bench import run

    events = []

    class FakeServer:
        def __init__(self, key):
            self.key = key

        def stop(self):
            events.append(("stop", self.key))

    def fake_load(server, key, seconds):
        events.append(("load", key, seconds))
        return dict(parse_wrk(WRK_OUTPUT), cpu=1.0, seconds=seconds)

    floors = iter([{"common": 100.0}, {"common": 200.0}])
    monkeypatch.setattr(run, "start_warm", lambda key, warmup: FakeServer(key))
    monkeypatch.setattr(run, "load", fake_load)
    monkeypatch.setattr(run, "django_floor", lambda seconds: next(floors))
    round_ = run.measure_round(["bare", "common"], True, duration=8, warmup=0, slices=2)
    assert events == [
        ("load", "bare", 4),
        ("load", "common", 4),
        ("load", "bare", 4),
        ("load", "common", 4),
        ("stop", "bare"),
        ("stop", "common"),
    ]
    assert round_["django"] == {"common": 150.0}
    assert round_["bare"]["requests"] == 2 * 1696


def measurement(rps, cpu_rps):
    return {"rps": rps, "cpu_rps": cpu_rps, "p99": 1.0, "errors": 0, "non2xx": 0}


def test_floor_is_django_in_process_plus_bare_aiohttp():
    # Django 100 µs + aiohttp 1e6/25000 = 40 µs: 1e6 / 140 µs.
    round_ = {"django": {"common": 60.0, "seven": 100.0}, "bare": measurement(25000.0, 50000.0)}
    rps, cpu = rows.side_values(round_, "floor_seven")
    assert rps == pytest.approx(1e6 / 140.0)
    assert cpu == pytest.approx(1e6 / 120.0)
    table = report.floor_table([round_])
    assert "| 40 [40-40] (CPU 20 [20-20]) |" in table
    assert "7 middleware (CPU) | 100 [100-100] | 7143 [7143-7143] (8333 [8333-8333]) |" in table


def test_ratios_are_computed_within_each_round():
    row = [r for r in rows.ROWS if r[1].startswith("coroutine hello / sync hello")][0]
    rounds = [
        {"seven": measurement(100.0, 300.0), "sync": measurement(200.0, 200.0)},
        {"seven": measurement(400.0, 300.0), "sync": measurement(100.0, 300.0)},
    ]
    r = rows.ratios(rounds, row)
    assert r["ratio"] == [0.5, 4.0]
    assert r["ratio_cpu"] == [1.5, 1.0]
    assert rows.spread(r["ratio"]) == "2.25 [0.50-4.00]"
    assert rows.verdict(r["ratio"], 1.0) == "MET"
    assert rows.verdict([1.0, 1.0], 1.0) == "MET"
    assert rows.verdict([1.0, 1.0], 1.0, strict=True) == "MISSED"
    table = report.goal_table(rounds, [row])
    assert "| 250 | 150 | 2.25 [0.50-4.00] | 1.25 [1.00-1.50] | >= 1.0 | MET |" in table


def test_selection_needs_what_its_rows_compare():
    keys, selected = rows.selected(["trivial"], uvloop=False)
    assert keys == ["common", "seven"]
    assert all("uvloop" not in label for _, label, _, _, _, _ in selected)
    measurements, floor = rows.needed(selected)
    assert floor and measurements == ["bare", "common", "seven"]
    _, with_uvloop = rows.selected(["io1000"], uvloop=True)
    assert rows.needed(with_uvloop) == (["bare_io", "io", "io_uv"], False)
    with pytest.raises(ValueError, match="unknown BENCH_ONLY key 'nope'"):
        rows.selected(["nope"], uvloop=True)


def test_every_row_compares_known_sides():
    for _, _, numerator, denominator, _, _ in rows.ROWS:
        for side in (numerator, denominator):
            assert side in rows.MEASUREMENTS or side in rows.FLOORS
            assert side in rows.ORDER or side in rows.FLOORS


def test_docs_section_is_rewritten_between_the_markers():
    text = "intro\n%s\nold table\n%s\noutro\n" % (report.BEGIN, report.END)
    new = report.rewrite_section(text, "\nnew table\n")
    assert new == "intro\n%s\nnew table\n%s\noutro\n" % (report.BEGIN, report.END)
    with pytest.raises(ValueError):
        report.rewrite_section("no markers", "x")
    page = os.path.join(os.path.dirname(os.path.dirname(__file__)), "docs", "benchmarks.md")
    with open(page) as f:
        report.rewrite_section(f.read(), "x")  # the page has its markers


def test_held_keepalive_connections_stay_open_on_a_real_server():
    server = BareAiohttp(0.0)
    try:
        server.wait_ready("/")
        pid = server.serving_pid()
        time.sleep(0.5)  # the server closes wait_ready's connection (as bench/run.py waits)
        fds, cpu = open_fds(pid), cpu_seconds(pid)
        held = hold_connections(server.port, "/", 20)
        try:
            assert open_fds(pid) - fds == 20
            assert rss_kb(pid) > 1000
            assert cpu_seconds(pid) >= cpu
        finally:
            for s in held:
                s.close()
    finally:
        server.stop()


def test_the_trivial_coroutine_hello_answers_without_a_wait_at_delay_0():
    from django.test import RequestFactory

    from async_app.handler import is_async_view
    from bench.views import trivial_coroutine_hello

    assert is_async_view(trivial_coroutine_hello)
    coroutine = trivial_coroutine_hello(RequestFactory().get("/", {"delay": "0"}))
    with pytest.raises(StopIteration) as done:
        coroutine.send(None)  # a wait would suspend it here
    assert done.value.value.content == b"Hello world!"
    refused = trivial_coroutine_hello(RequestFactory().get("/", {"delay": "x"}))
    with pytest.raises(StopIteration) as done:
        refused.send(None)
    assert done.value.value.status_code == 400
    started = time.monotonic()
    waited = asyncio.run(trivial_coroutine_hello(RequestFactory().get("/", {"delay": "0.05"})))
    assert waited.content == b"Hello world!" and time.monotonic() - started >= 0.05


def test_the_sampler_sees_the_request_cycle_of_a_real_worker():
    from bench import sample

    result = sample.sample("coroutine", 1.5, warmup=50)
    assert result["requests"] > 100 and result["samples"] > 20, result["samples"]
    cycle = [k for k in result["inclusive"] if k.endswith(" run") and "server/cycle.py" in k]
    assert cycle, sorted(result["inclusive"])[:20]
    # For a plain hello the cycle is about half the worker's CPU (aiohttp's
    # parser and the loop are the rest); the application runs inside it.
    assert result["inclusive"][cycle[0]] > 0.25 * result["samples"]
    app = [k for k in result["inclusive"] if "wsgi_plain.py" in k]
    assert app and result["inclusive"][app[0]] <= result["inclusive"][cycle[0]]
    text = sample.report(result)
    assert "async_app/server" in text.split("functions (self):")[0]
    assert sample.package("/x/site-packages/django/http/request.py:1 f") == "django"
    assert sample.package("django_wsgi/handler.py:39 __init__") == "django_wsgi"
