"""The soak suite's own parts (soak/): the HTTP client, the /proc readings, the figures.

The suite itself runs as ``make soak`` / ``make soak-ci`` (docs/soak.md);
these are the quick checks that its measuring instruments tell the truth:
a cut response is a failure, a descriptor is counted where it belongs, a
leak shows up as growth.
"""

import asyncio
import os
import socket
import threading

import pytest

from soak import probe
from soak.client import Connection, HTTPError
from soak.load import percentile
from soak.report import EXPECTED_ERRORS, log_errors


class OneShotServer:
    """A loopback server that answers each connection with fixed bytes, then closes."""

    def __init__(self, answer, connections=1):
        self.answer = answer
        self.connections = connections
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        for _ in range(self.connections):
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(self.answer)

    def close(self):
        self.sock.close()


def fetch(answer):
    server = OneShotServer(answer)
    try:

        async def go():
            conn = Connection("127.0.0.1", server.port)
            try:
                return await asyncio.wait_for(conn.request("GET", "/"), 5)
            finally:
                conn.close()

        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(go())
        finally:
            loop.close()
    finally:
        server.close()


def test_client_reads_content_length_and_chunked_bodies_and_the_worker_pid():
    r = fetch(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Worker-Pid: 42\r\n\r\nhello")
    assert (r.status, r.body, r.pid, r.will_close) == (200, b"hello", 42, False)
    r = fetch(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n"
    )
    assert (r.body, r.will_close) == (b"abcde", True)


@pytest.mark.parametrize(
    "answer",
    [
        b"",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        b"garbage\r\n\r\n",
    ],
)
def test_client_reports_a_cut_or_malformed_response_as_an_error(answer):
    with pytest.raises((HTTPError, EOFError, ConnectionError)):
        fetch(answer)


def test_client_does_not_reuse_a_connection_the_server_closed():
    # A keep-alive response, then the server closes (as a keep-alive timeout does).
    server = OneShotServer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", connections=2)

    async def twice():
        conn = Connection("127.0.0.1", server.port)
        try:
            first = await asyncio.wait_for(conn.request("GET", "/"), 5)
            await asyncio.sleep(0.2)  # the server's FIN arrives
            second = await asyncio.wait_for(conn.request("GET", "/"), 5)
            return first.body, second.body, conn.reopened
        finally:
            conn.close()

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(twice()) == (b"ok", b"ok", 1)
    finally:
        loop.close()
        server.close()


def test_descriptors_are_counted_by_kind():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    before = probe.fds(os.getpid(), server_port=port, db_port=-1)
    extra = open(__file__)
    try:
        after = probe.fds(os.getpid(), server_port=port, db_port=port)
    finally:
        extra.close()
        for s in (accepted, client, listener):
            s.close()
    # the accepted socket is a client connection; as db_port, the client side is "db"
    assert before["listen"] >= 1 and before["clients"] >= 1
    assert after["db"] == before["db"] + 1
    assert after["files"] == before["files"] + 1
    assert after["total"] == before["total"] + 1


def test_rss_growth_compares_medians_of_the_first_and_last_windows():
    flat = [(t, {"rss_kb": 100000 + (5000 if t == 3 else 0)}) for t in range(60)]
    assert probe.rss_growth(flat, window=10) == (100000, 100000, 0.0)
    leaking = [(t, {"rss_kb": 100000 + 200 * t}) for t in range(60)]
    start, end, pct = probe.rss_growth(leaking, window=10)
    assert start < end and pct > 5


def test_rss_trend_sees_a_slow_leak_through_noise_and_no_leak_in_noise():
    noise = [0, 9000, -4000, 6000, -8000, 3000]
    flat = [(t, {"rss_kb": 100000 + noise[t % 6]}) for t in range(240)]
    assert abs(probe.rss_trend(flat)[2]) < 1
    leaking = [(t, {"rss_kb": 100000 + noise[t % 6] + 40 * t}) for t in range(240)]
    start, end, pct = probe.rss_trend(leaking)
    assert 8 < pct < 11


def test_sample_of_a_gone_process_is_none():
    assert probe.sample(2**22 + 12345, 1, 2) is None


def test_percentile_nearest_rank():
    values = sorted(range(1, 101))
    assert (percentile(values, 50), percentile(values, 99), percentile([], 50)) == (50, 99, 0.0)


def test_log_errors_names_each_traceback_and_error_line():
    log = "\n".join(
        [
            "[2026-01-01 00:00:00 +0000] [1] [ERROR] Worker (pid:123) was sent SIGKILL! "
            "Perhaps out of memory?",
            "Traceback (most recent call last):",
            '  File "x.py", line 1, in <module>',
            "psycopg2.OperationalError: connection refused",
            "Traceback (most recent call last):",
            '  File "y.py", line 2, in <module>',
            "KeyError: 'x'",
        ]
    )
    errors = log_errors(log)
    assert errors == {
        "Worker (pid:N) was sent SIGKILL! Perhaps out of memory?": 1,
        "psycopg2.OperationalError": 1,
        "KeyError": 1,
    }
    assert [e for e in errors if not e.startswith(EXPECTED_ERRORS)] == ["KeyError"]
