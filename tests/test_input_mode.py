"""`judges.input_mode`, over real HTTP with the openai SDK: in `parallel` the request goes
upstream while a judge that takes a known time (a canned guard model, 0.4 s) reads it, yet
nothing reaches the client before the verdict and a block closes the upstream call; in
`before` a blocked request never reaches the upstream."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from gateway.app import build_app
from tests.canned import CANNED_TEXT, CannedLog, build_canned_guard, build_canned_upstream
from tests.conftest import gateway_settings
from tests.servers import ThreadedServer, starts

MARKER = "vigil-harm-marker"  # the canned guard calls a request holding it unsafe
JUDGE_S = 0.4  # how long the canned guard takes to judge
BLOCKED = "[blocked]"
_SERIAL = itertools.count()


def _ask(harmful: bool) -> list[dict[str, str]]:
    """A request no judge has cached yet (the guard scorer caches per text)."""
    words = f"tell me a story {next(_SERIAL)}" + (f" {MARKER}" if harmful else "")
    return [{"role": "user", "content": words}]


class _Setup:
    """Canned upstreams, and gateways in front of them judging requests with the guard."""

    def __init__(self) -> None:
        app = build_canned_guard(MARKER, delay_s=JUDGE_S)
        self._guard = ThreadedServer(app).__enter__()
        self._answered: list[float] = app.state.answered
        self._servers = [self._guard]

    def start(self, mode: str, **upstream: Any) -> tuple[openai.OpenAI, CannedLog]:
        app = build_canned_upstream("canned", **upstream)
        canned = ThreadedServer(app).__enter__()
        self._servers.append(canned)
        gateway = ThreadedServer(build_app(gateway_settings(
            upstream={"url": canned.url},
            judges={"input_mode": mode,
                    "harm": {"enabled": True, "backend": "guard", "apply_to": ["input"],
                             "guard": {"url": self._guard.url, "model": "guard"}}},
            policy={"rules": {"harm": {"action": "block", "threshold": 0.8}},
                    "blocked_message": BLOCKED}))).__enter__()
        self._servers.append(gateway)
        client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="sk-none", max_retries=0)
        return client, app.state.log

    def guard_answered(self) -> list[float]:
        """When the guard answered each call (time.monotonic())."""
        return self._answered

    def close(self) -> None:
        for server in reversed(self._servers):
            server.__exit__(None, None, None)


@starts()
def setup() -> Iterator[_Setup]:
    made = _Setup()
    yield made
    made.close()


def _streamed(client: openai.OpenAI, harmful: bool) -> tuple[str, str | None, float, float]:
    """The streamed answer's text and finish reason, when its headers arrived and when its
    first chunk did (time.monotonic())."""
    stream = client.chat.completions.create(model="canned", messages=_ask(harmful),
                                            stream=True)
    headers_at, first_at, text, finish = time.monotonic(), None, "", None
    for chunk in stream:
        first_at = first_at or time.monotonic()
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
    assert first_at is not None
    return text, finish, headers_at, first_at


def _whole(client: openai.OpenAI, harmful: bool) -> tuple[str | None, str | None, float]:
    reply = client.chat.completions.create(model="canned", messages=_ask(harmful))
    return reply.choices[0].message.content, reply.choices[0].finish_reason, time.monotonic()


def _wait_for(check: Any, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "non-stream"])
def test_parallel_block_aborts_the_upstream_call(setup: _Setup, stream: bool) -> None:
    """The upstream got the request while it was judged, and saw it closed once it was
    blocked; the client gets the usual blocked answer."""
    client, upstream = setup.start("parallel", chunk_delay_s=0.05, stream_pieces=200,
                                   delay_s=0.0 if stream else 10.0)
    started = time.monotonic()
    if stream:
        text, finish, *_ = _streamed(client, harmful=True)
    else:
        text, finish, _ = _whole(client, harmful=True)
    assert (text, finish) == (BLOCKED, "content_filter")
    assert time.monotonic() - started < 5.0  # not held until the upstream's answer ended
    assert upstream.calls == 1 and upstream.received[0] < setup.guard_answered()[-1]
    assert _wait_for(lambda: upstream.disconnects == 1), "the upstream call was not closed"


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "non-stream"])
@pytest.mark.parametrize("harmful", [True, False], ids=["blocked", "allowed"])
def test_parallel_sends_nothing_before_the_verdict(setup: _Setup, stream: bool,
                                                   harmful: bool) -> None:
    """An instant upstream has answered long before the judge: the client's first byte
    still comes after the verdict, and a blocked request gets no upstream text at all."""
    client, upstream = setup.start("parallel")
    if stream:
        text, finish, first_at, _ = _streamed(client, harmful)
    else:
        text, finish, first_at = _whole(client, harmful)
    verdict_at = setup.guard_answered()[-1]
    assert upstream.received[0] < verdict_at < first_at
    if harmful:
        assert (text, finish) == (BLOCKED, "content_filter")
    else:
        assert finish == "stop" and CANNED_TEXT.split()[0] in (text or "")


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "non-stream"])
def test_parallel_upstream_error_before_the_verdict(setup: _Setup, stream: bool) -> None:
    """An upstream 4xx that comes back while the request is judged: a block wins; an allowed
    request gets the error as it would without judges."""
    client, _ = setup.start("parallel", fail_status=400)
    if stream:
        text, finish, *_ = _streamed(client, harmful=True)
    else:
        text, finish, _ = _whole(client, harmful=True)
    assert (text, finish) == (BLOCKED, "content_filter")
    with pytest.raises(openai.BadRequestError, match="canned failure"):
        (_streamed if stream else _whole)(client, False)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "non-stream"])
def test_before_mode_never_calls_upstream_for_a_blocked_request(setup: _Setup,
                                                                stream: bool) -> None:
    client, upstream = setup.start("before")
    text, finish, *_ = (_streamed if stream else _whole)(client, True)
    assert (text, finish) == (BLOCKED, "content_filter")
    assert upstream.calls == 0
    text, finish, *_ = (_streamed if stream else _whole)(client, False)
    assert finish == "stop" and upstream.calls == 1
    assert upstream.received[0] > setup.guard_answered()[-1]  # sent once judged


def test_parallel_allowed_stream_relays_every_chunk(setup: _Setup) -> None:
    client, upstream = setup.start("parallel", stream_pieces=40, chunk_delay_s=0.005)
    stream = client.chat.completions.create(model="canned", messages=_ask(False), stream=True)
    pieces, finish = [], None
    for chunk in stream:
        if chunk.choices:
            if chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
            finish = chunk.choices[0].finish_reason or finish
    words = CANNED_TEXT.split(" ")
    assert pieces == [words[i % len(words)] + " " for i in range(40)]
    assert finish == "stop" and upstream.disconnects == 0
