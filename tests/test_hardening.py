"""Hostile and broken input against a real gateway on loopback, in front of a canned upstream:
every refusal is a 4xx in OpenAI's error shape (never a 5xx), limits act before the body is
buffered, judging that runs out of budget follows the policy's fail mode, and a stream the
upstream cuts short ends with an error for the client instead of looking complete."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from gateway.app import build_app
from gateway.auth import OpenAccessError
from gateway.settings import GatewaySettings
from tests.canned import CANNED_TEXT, build_canned_upstream
from tests.conftest import gateway_settings
from tests.servers import ThreadedServer, read_metric

KEY = "sk-tenant-key-1234"
HI = [{"role": "user", "content": "Say hello."}]


@pytest.fixture(scope="module")
def upstream() -> Iterator[ThreadedServer]:
    with ThreadedServer(build_canned_upstream("canned")) as server:
        yield server


@pytest.fixture(scope="module")
def gateway(upstream: ThreadedServer) -> Iterator[ThreadedServer]:
    settings = gateway_settings(upstream={"url": upstream.url}, auth={"keys": {KEY: "acme"}},
                               limits={"max_body_bytes": 1 << 20, "max_messages": 64,
                                       "max_tokens": 4096},
                               judges={"phrase": {"enabled": True, "phrases": ["forbidden"]}})
    with ThreadedServer(build_app(settings)) as server:
        yield server


def _post(gateway: ThreadedServer, body: Any) -> httpx.Response:
    # json.dumps escapes what httpx's own encoder would refuse (a lone surrogate).
    return httpx.post(f"{gateway.url}/v1/chat/completions", content=json.dumps(body),
                      headers={"Authorization": f"Bearer {KEY}",
                               "Content-Type": "application/json"}, timeout=30)


def _metric(server: ThreadedServer, name: str, labels: dict[str, str]) -> float:
    return read_metric(httpx.get(f"{server.url}/metrics").text, name, **labels)


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error  # type: ignore[no-any-return]


def test_a_non_ascii_bearer_key_is_a_401(gateway: ThreadedServer) -> None:
    response = httpx.post(f"{gateway.url}/v1/chat/completions",
                          headers=[(b"Authorization", b"Bearer sk-\xe9\xff")],
                          json={"model": "canned", "messages": HI})
    assert _error(response, 401)["code"] == "invalid_api_key"


@pytest.mark.parametrize(("content", "what"), [
    ("half a pair \ud800 here", "lone surrogate"), ("nul \x00 byte", "NUL character")])
def test_text_no_downstream_can_carry_is_a_400_naming_where(
        gateway: ThreadedServer, content: str, what: str) -> None:
    body = {"model": "canned", "messages": [{"role": "user", "content": content}]}
    error = _error(_post(gateway, body), 400)
    assert what in error["message"] and "messages.0.content" in error["message"]
    # Elsewhere in the body too (the user field becomes an event key).
    error = _error(_post(gateway, {"model": "canned", "messages": HI, "user": content}), 400)
    assert what in error["message"] and "'user'" in error["message"]


@pytest.mark.parametrize(("extra", "param"), [
    ({"stream": "yes"}, "stream"), ({"stream": 1}, "stream"), ({"n": 10000}, "n"),
    ({"n": 2}, "n"), ({"max_tokens": 1 << 20}, "max_tokens"),
    ({"max_completion_tokens": 5000}, "max_completion_tokens"),
    ({"messages": HI * 10000}, "messages")])
def test_what_the_gateway_cannot_serve_is_refused_with_its_parameter(
        gateway: ThreadedServer, extra: dict[str, Any], param: str) -> None:
    error = _error(_post(gateway, {"model": "canned", "messages": HI, **extra}), 400)
    assert error["param"] == param, error


def test_a_body_over_the_limit_is_refused_unread(gateway: ThreadedServer) -> None:
    # Declared: refused on the Content-Length alone, before a byte of the body is read.
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as conn:
        conn.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer " + KEY.encode() + b"\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 67108864\r\n\r\n")
        head = conn.recv(65536).decode()
    assert head.startswith("HTTP/1.1 413") and "request_too_large" in head
    # Chunked (no length): refused once the bytes received pass the limit.
    def body() -> Iterator[bytes]:
        yield b'{"model": "canned", "messages": [{"role": "user", "content": "'
        for _ in range(4096):
            yield b"x" * 1024
        yield b'"}]}'
    response = httpx.post(f"{gateway.url}/v1/chat/completions", content=body(),
                          headers={"Authorization": f"Bearer {KEY}"}, timeout=30)
    assert _error(response, 413)["code"] == "request_too_large"
    # Under the limit, the same route answers.
    assert _post(gateway, {"model": "canned", "messages": HI}).status_code == 200
    assert _metric(gateway, "vigil_requests_total",
                       {"route": "/v1/chat/completions", "status": "413"}) >= 2


@pytest.mark.parametrize(("fail_mode", "finish"), [("block", "content_filter"),
                                                   ("allow", "stop")])
def test_judging_past_its_budget_follows_the_fail_mode(
        upstream: ThreadedServer, fail_mode: str, finish: str) -> None:
    # A budget no judging step can meet: every step times out, deterministically.
    settings = gateway_settings(
        upstream={"url": upstream.url}, policy={"on_judge_timeout": fail_mode},
        judges={"budget_s": 1e-9, "phrase": {"enabled": True, "phrases": ["forbidden"]}})
    with ThreadedServer(build_app(settings)) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="none", max_retries=0)
        answer = client.chat.completions.create(model="canned", messages=HI)  # type: ignore[arg-type]
        assert answer.choices[0].finish_reason == finish
        assert (answer.choices[0].message.content == CANNED_TEXT) is (fail_mode == "allow")
        chunks = list(client.chat.completions.create(model="canned", messages=HI,  # type: ignore[arg-type]
                                                     stream=True))
        finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
        assert finishes[-1] == finish
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        if fail_mode == "allow":  # unjudged, the upstream's words pass
            assert text.startswith(CANNED_TEXT.split()[0]) and "help" not in text, text
        else:
            assert text == "I can't help with that request.", text
        assert _metric(server, "vigil_judge_timeouts_total",
                           {"where": "input", "action": fail_mode}) == 2


def test_long_text_is_judged_in_windows_never_skipped(upstream: ThreadedServer) -> None:
    settings = gateway_settings(
        upstream={"url": upstream.url}, judges={
            "window_chars": 1024, "phrase": {"enabled": True, "phrases": ["forbidden"]}})
    with ThreadedServer(build_app(settings)) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="none", max_retries=0)

        def check() -> None:
            for at in (0, 1000, 5000, 99_990):  # across window edges, and at the very end
                text = "a" * at + " forbidden " + "b" * (100_000 - at)
                answer = client.chat.completions.create(
                    model="canned", messages=[{"role": "user", "content": text}])
                assert answer.choices[0].finish_reason == "content_filter", at
            clean = client.chat.completions.create(
                model="canned", messages=[{"role": "user", "content": "a " * 50_000}])
            assert clean.choices[0].finish_reason == "stop"

        check()  # in threads: the first long text only starts the worker process
        deadline = time.monotonic() + 60
        while _metric(server, "vigil_judge_processes", {}) < 1:
            assert time.monotonic() < deadline, "the judge worker process did not start"
            time.sleep(0.1)
        check()  # in the worker process


def test_a_stream_cut_short_upstream_ends_with_an_error_not_a_whole_answer() -> None:
    with ThreadedServer(build_canned_upstream("canned", truncate=True)) as upstream, \
            ThreadedServer(build_app(gateway_settings(upstream={"url": upstream.url}))) as gw:
        client = openai.OpenAI(base_url=f"{gw.url}/v1", api_key="none", max_retries=0)
        received = []
        with pytest.raises(openai.APIError, match="before the answer finished"):
            for chunk in client.chat.completions.create(model="canned", messages=HI,  # type: ignore[arg-type]
                                                        stream=True):
                received.append(chunk)
        assert received and all(c.choices[0].finish_reason is None for c in received)
        assert _metric(gw, "vigil_upstream_errors_total", {"kind": "truncated"}) == 1


def test_an_open_gateway_starts_only_on_loopback_unless_allowed(upstream: ThreadedServer) -> None:
    exposed = {"upstream": {"url": upstream.url}, "server": {"host": "0.0.0.0"}}
    with pytest.raises(OpenAccessError, match=r"auth\.allow_open"):
        build_app(gateway_settings(**exposed))
    build_app(gateway_settings(**exposed, auth={"allow_open": True}))
    build_app(gateway_settings(**exposed, auth={"keys": {KEY: "acme"}}))
    cli = subprocess.run([sys.executable, "-m", "gateway", "gateway", "--upstream", upstream.url,
                          "--host", "0.0.0.0", "--port", "0"], capture_output=True, text=True,
                         timeout=120)
    assert cli.returncode == 2 and "no API keys are configured" in cli.stderr, cli.stderr


def test_the_defaults_judge_and_a_gateway_without_judges_says_so(
        upstream: ThreadedServer) -> None:
    defaults = GatewaySettings().judges
    assert all(getattr(defaults, name).enabled for name in ("harm", "language", "refusal", "pii"))
    with ThreadedServer(build_app(gateway_settings(upstream={"url": upstream.url}))) as server:
        assert httpx.get(f"{server.url}/readyz").text == (
            "ready (no judges enabled: traffic is not judged)")
    with ThreadedServer(build_app(gateway_settings(
            upstream={"url": upstream.url},
            judges={"phrase": {"enabled": True, "phrases": ["x"]}}))) as server:
        assert httpx.get(f"{server.url}/readyz").text == "ready"
