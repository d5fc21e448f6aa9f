"""async_app.server.framing: following a connection's bytes to its chunked trailers.

Table-driven, without a server: messages stand for what aiohttp's parser
announces, payloads record the refusal. Every stream is also fed split at
every byte, before and after the parser's announcement as the connection
does. tests/test_server_connection.py sends the same through a real worker.
"""

import collections
import re

import pytest

from async_app.server.environ import RequestError
from async_app.server.framing import Framing

Message = collections.namedtuple("Message", "chunked upgrade headers")


class Payload:
    """Records the exception a refused body gets."""

    def __init__(self):
        self.exc = None

    def set_exception(self, exc):
        self.exc = exc


class Protocol:
    def fail_body(self, payload, exc):
        payload.set_exception(exc)


def message(chunked=False, length=None, upgrade=False):
    headers = {} if length is None else {"Content-Length": str(length)}
    return Message(chunked, upgrade, headers), Payload()


CHUNKED_HEAD = b"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"


def follow(stream, messages, split=None):
    """Feed ``stream`` (whole, or in two parts at ``split``); announce each message
    in the part where its head ends. Returns the Framing."""
    framing = Framing(Protocol())
    parts = [stream] if split is None else [stream[:split], stream[split:]]
    seen = 0
    heads = _head_ends(stream)
    for part in parts:
        offset = framing.before_parse(part)
        seen_before = seen
        seen += len(part)
        new = [m for m, end in zip(messages, heads) if seen_before < end <= seen]
        framing.after_parse(part, offset, new)
    return framing


def _head_ends(stream):
    # Where the parser would announce each request: the end of its head.
    return [
        stream.find(b"\r\n\r\n", m.start()) + 4
        for m in re.finditer(rb"(GET|POST) /\S* HTTP/1\.1\r\n", stream)
    ]


CASES = [
    # (name, stream, messages' (kind, args), index of the refused message or None)
    ("host trailer", CHUNKED_HEAD + b"5\r\nhello\r\n0\r\nHost: evil\r\n\r\n", [("chunked",)], 0),
    (
        "authorization trailer, lower case, spaces",
        CHUNKED_HEAD + b"5\r\nhello\r\n0\r\nauthorization : x\r\n\r\n",
        [("chunked",)],
        0,
    ),
    (
        "allowed trailer",
        CHUNKED_HEAD + b"5\r\nhello\r\n0\r\nX-Checksum: 1\r\n\r\n",
        [("chunked",)],
        None,
    ),
    ("no trailers", CHUNKED_HEAD + b"5\r\nhello\r\n0\r\n\r\n", [("chunked",)], None),
    (
        "chunk extension and a body that looks like a trailer",
        CHUNKED_HEAD + b"10;ext=1\r\n0\r\nHost: x\r\n\r\nab\r\n0\r\n\r\n",
        [("chunked",)],
        None,
    ),
    (
        "pipelined after a Content-Length body",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\n\r\n0\r\nTE: x"
        + CHUNKED_HEAD
        + b"0\r\nTE: trailers\r\n\r\n",
        [("length", 8), ("chunked",)],
        1,
    ),
    (
        "pipelined after a GET",
        GET + CHUNKED_HEAD + b"0\r\nHost: x\r\n\r\n",
        [("get",), ("chunked",)],
        1,
    ),
    (
        "second of two chunked requests",
        CHUNKED_HEAD + b"0\r\n\r\n" + CHUNKED_HEAD + b"3\r\nabc\r\n0\r\nTrailer: x\r\n\r\n",
        [("chunked",), ("chunked",)],
        1,
    ),
]


def _messages(kinds):
    out = []
    for kind in kinds:
        if kind[0] == "chunked":
            out.append(message(chunked=True))
        elif kind[0] == "length":
            out.append(message(length=kind[1]))
        else:
            out.append(message())
    return out


@pytest.mark.parametrize("name,stream,kinds,refused", CASES, ids=[c[0] for c in CASES])
def test_forbidden_trailers_are_refused_wherever_the_bytes_are_split(name, stream, kinds, refused):
    for split in [None] + list(range(1, len(stream))):
        messages = _messages(kinds)
        framing = follow(stream, messages, split)
        for i, (_, payload) in enumerate(messages):
            if i == refused:
                assert isinstance(payload.exc, RequestError), (split, i)
                assert payload.exc.status == 400
            else:
                assert payload.exc is None, (split, i, payload.exc)
        if refused is None:
            assert not framing.lost, split


def test_a_refusal_comes_before_the_parser_sees_the_end_of_the_body():
    # The body's last bytes arrive in a packet of their own: the refusal is
    # made by before_parse, while the request handler may be awaiting the body.
    messages = [message(chunked=True)]
    framing = Framing(Protocol())
    framing.after_parse(CHUNKED_HEAD + b"5\r\nhello\r\n", 0, messages)
    assert messages[0][1].exc is None
    framing.before_parse(b"0\r\nHost: evil\r\n\r\n")
    assert isinstance(messages[0][1].exc, RequestError)


@pytest.mark.parametrize(
    "body",
    [
        b"-5\r\nhello\r\n0\r\n\r\n",  # a sign: int() would take it
        b"+5\r\nhello\r\n0\r\n\r\n",
        b"0x5\r\nhello\r\n0\r\n\r\n",
        b"zz\r\n",
        b"5\r\nhelloXX0\r\n\r\n",  # no CRLF after the data
    ],
)
def test_malformed_chunks_stop_the_following_without_a_refusal(body):
    messages = [message(chunked=True)]
    framing = follow(CHUNKED_HEAD + body, messages)
    assert framing.lost and messages[0][1].exc is None


def test_a_head_the_parser_did_not_announce_stops_the_following():
    framing = follow(GET, [])
    assert framing.lost


def test_an_upgrade_stops_the_following():
    messages = [message(upgrade=True)]
    framing = follow(GET + CHUNKED_HEAD + b"0\r\nHost: x\r\n\r\n", messages)
    assert framing.lost and messages[0][1].exc is None


def test_a_partial_head_waits_for_its_end():
    framing = Framing(Protocol())
    assert framing.after_parse(b"\r\nGET / HTTP/1.1\r\nHo", 0, [])
    messages = [message(chunked=True)]
    framing.after_parse(
        b"st: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nHost: x\r\n\r\n", 0, messages
    )
    assert isinstance(messages[0][1].exc, RequestError)
