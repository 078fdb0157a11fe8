"""The gateway end to end: the official openai SDK → gateway → embedded engine → tiny model,
all over real HTTP on loopback."""

from __future__ import annotations

import time

import httpx
import openai
import pytest

from gateway.app import build_app
from tests.canned import build_canned_upstream
from tests.conftest import GatewayFactory, client_for, gateway_settings
from tests.servers import EngineProcess, ThreadedServer, free_port, read_metric
from tests.tinymodel import BASE_REPLY, reply_for

BASE_REASONING, _, BASE_ANSWER = BASE_REPLY.partition("</think>")
ALIASES = {"vigil": {"upstream": "tiny"}, "vigil-alpha": {"upstream": "alpha"}}
HELLO = [{"role": "user", "content": "Say hello"}]


def _stream_text(stream: openai.Stream) -> tuple[str, str, str | None, int]:  # type: ignore[type-arg]
    reasoning, content, finish, chunks = "", "", None, 0
    for chunk in stream:
        chunks += 1
        for choice in chunk.choices:
            reasoning += (choice.delta.model_extra or {}).get("reasoning_content") or ""
            content += choice.delta.content or ""
            finish = choice.finish_reason or finish
    return reasoning, content, finish, chunks


def test_models_list_shows_aliases(make_gateway: GatewayFactory) -> None:
    client = client_for(make_gateway(models=ALIASES))
    assert sorted(m.id for m in client.models.list()) == ["vigil", "vigil-alpha"]


def test_models_passthrough_without_aliases(make_gateway: GatewayFactory) -> None:
    client = client_for(make_gateway())
    assert {"tiny", "alpha"} <= {m.id for m in client.models.list()}
    response = client.chat.completions.create(model="alpha", messages=HELLO, temperature=0)
    assert response.choices[0].message.content == reply_for("alpha").partition("</think>")[2]


def test_chat_non_stream_with_reasoning_split(make_gateway: GatewayFactory) -> None:
    response = client_for(make_gateway(models=ALIASES)).chat.completions.create(
        model="vigil", messages=HELLO, temperature=0)
    assert response.model == "vigil"  # clients see the alias, not the upstream name
    assert response.choices[0].message.content == BASE_ANSWER
    assert response.choices[0].message.model_extra["reasoning_content"] == BASE_REASONING
    assert response.usage is not None and response.usage.completion_tokens > 0


def test_chat_stream_arrives_incrementally_with_usage(make_gateway: GatewayFactory) -> None:
    client = client_for(make_gateway(models=ALIASES))
    stream = client.chat.completions.create(model="vigil", messages=HELLO, temperature=0,
                                            stream=True, stream_options={"include_usage": True},
                                            max_tokens=60, extra_body={"ignore_eos": True})
    arrivals, usage = [], None
    for chunk in stream:
        arrivals.append(time.perf_counter())
        usage = chunk.usage or usage
    assert len(arrivals) > 30
    assert usage is not None and usage.completion_tokens == 60
    # Incremental: the chunks are spread over the generation, not delivered in one burst.
    assert arrivals[-1] - arrivals[0] > 0.02
    middle = arrivals[len(arrivals) // 2]
    assert middle - arrivals[0] > 0.005 and arrivals[-1] - middle > 0.005


def test_reasoning_stream_split(make_gateway: GatewayFactory) -> None:
    client = client_for(make_gateway(models=ALIASES))
    reasoning, content, finish, _ = _stream_text(client.chat.completions.create(
        model="vigil", messages=HELLO, temperature=0, stream=True))
    assert (reasoning, content, finish) == (BASE_REASONING, BASE_ANSWER, "stop")


def test_completions_through_gateway(make_gateway: GatewayFactory) -> None:
    client = client_for(make_gateway(models=ALIASES))
    response = client.completions.create(model="vigil", prompt="Hello", max_tokens=5,
                                         temperature=0)
    assert response.model == "vigil" and response.choices[0].text
    pieces = [c.choices[0].text for c in client.completions.create(
        model="vigil", prompt="Hello", max_tokens=5, temperature=0, stream=True) if c.choices]
    assert "".join(pieces) == response.choices[0].text


def test_alias_selects_adapter(make_gateway: GatewayFactory) -> None:
    client = client_for(make_gateway(models=ALIASES))
    response = client.chat.completions.create(model="vigil-alpha", messages=HELLO,
                                              temperature=0)
    assert response.choices[0].message.content == reply_for("alpha").partition("</think>")[2]
    assert response.model == "vigil-alpha"


# ----------------------------------------------------------------------------- errors


def _assert_openai_error(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    return error


def test_malformed_json_and_schema_errors_are_400(make_gateway: GatewayFactory) -> None:
    url = f"{make_gateway(models=ALIASES).url}/v1/chat/completions"
    _assert_openai_error(httpx.post(url, content=b"{oops", headers={
        "content-type": "application/json"}), 400)
    error = _assert_openai_error(httpx.post(url, json={"model": "vigil"}), 400)
    assert error["param"] == "messages"
    error = _assert_openai_error(httpx.post(url, json={
        "model": "vigil", "messages": HELLO, "temperature": 9}), 400)
    assert error["param"] == "temperature"
    _assert_openai_error(httpx.post(url, json=[1, 2]), 400)
    with pytest.raises(openai.BadRequestError):
        client_for(make_gateway(models=ALIASES)).chat.completions.create(
            model="vigil", messages=[])


def test_unknown_model_is_404(make_gateway: GatewayFactory) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        client_for(make_gateway(models=ALIASES)).chat.completions.create(
            model="gpt-404", messages=HELLO)
    assert err.value.body["code"] == "model_not_found"


def test_upstream_rejection_passes_through(make_gateway: GatewayFactory) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client_for(make_gateway(models=ALIASES)).completions.create(
            model="vigil", prompt="x", max_tokens=20000)  # within the gateway's limit
    assert err.value.body["code"] == "context_length_exceeded"


def test_upstream_down_is_502_and_not_ready(make_gateway: GatewayFactory) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    server = make_gateway(models=ALIASES, upstream={"url": dead, "connect_timeout_s": 1})
    with pytest.raises(openai.APIStatusError) as err:
        client_for(server).chat.completions.create(model="vigil", messages=HELLO)
    assert err.value.status_code == 502
    assert err.value.body["code"] == "upstream_connect"
    with pytest.raises(openai.APIStatusError) as err:
        client_for(server).chat.completions.create(model="vigil", messages=HELLO, stream=True)
    assert err.value.status_code == 502
    _assert_openai_error(httpx.get(f"{server.url}/readyz"), 503)
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    metrics = httpx.get(f"{server.url}/metrics").text
    assert read_metric(metrics, "vigil_upstream_errors_total", kind="connect") == 2


def test_upstream_timeout_is_504() -> None:
    with ThreadedServer(build_canned_upstream("slow", delay_s=3.0)) as slow:
        settings = gateway_settings(upstream={"url": slow.url, "read_timeout_s": 0.3})
        with ThreadedServer(build_app(settings)) as gateway:
            started = time.perf_counter()
            with pytest.raises(openai.APIStatusError) as err:
                client_for(gateway).chat.completions.create(model="slow", messages=HELLO)
            assert err.value.status_code == 504
            assert err.value.body["code"] == "upstream_timeout"
            assert time.perf_counter() - started < 2.5


# ----------------------------------------------------------------------------- auth


def test_auth_keys_tenants_and_admin(make_gateway: GatewayFactory) -> None:
    server = make_gateway(models=ALIASES, auth={"keys": {"sk-team-a-123456": "team-a"},
                                                "admin_keys": ["sk-admin-654321"]})
    with pytest.raises(openai.AuthenticationError) as err:
        client_for(server, key="sk-wrong").chat.completions.create(model="vigil",
                                                                   messages=HELLO)
    assert err.value.body["code"] == "invalid_api_key"
    missing = httpx.post(f"{server.url}/v1/chat/completions",
                         json={"model": "vigil", "messages": HELLO})
    assert _assert_openai_error(missing, 401)["code"] == "missing_api_key"
    # A bad key wins over a bad body: the caller learns nothing about the API first.
    bad_both = httpx.post(f"{server.url}/v1/chat/completions", json={"model": "vigil"},
                          headers={"Authorization": "Bearer nope"})
    _assert_openai_error(bad_both, 401)
    for key in ("sk-team-a-123456", "sk-admin-654321"):
        response = client_for(server, key=key).chat.completions.create(
            model="vigil", messages=HELLO, temperature=0)
        assert response.choices[0].message.content == BASE_ANSWER
    with pytest.raises(openai.AuthenticationError):
        client_for(server, key="sk-wrong").models.list()


# ----------------------------------------------------------------------------- judging


def _blocking(phrases: list[str], **policy: object) -> dict[str, object]:
    return {"models": ALIASES, "judges": {"phrase": {"enabled": True, "phrases": phrases}},
            "policy": {"blocked_message": "Blocked by Vigil.", **policy}}


def test_block_non_stream_output(make_gateway: GatewayFactory) -> None:
    client = client_for(make_gateway(**_blocking(["says hello"])))
    response = client.chat.completions.create(model="vigil", messages=HELLO, temperature=0)
    choice = response.choices[0]
    assert choice.finish_reason == "content_filter"
    assert choice.message.content == "Blocked by Vigil."
    assert not (choice.message.model_extra or {}).get("reasoning_content")


def test_block_stream_cuts_with_content_filter_and_cancels_upstream(
        make_gateway: GatewayFactory, engine: EngineProcess) -> None:
    server = make_gateway(**_blocking(["says hello"], stream_holdback_tokens=8))
    aborted_before = engine.metric("vigil_engine_requests_aborted_total")
    # A long answer (ignore_eos), as in the disconnect test: the engine is still generating
    # when the cut reaches it, so its abort is there to see (a short one may finish first).
    stream = client_for(server).chat.completions.create(
        model="vigil", messages=HELLO, temperature=0, stream=True, max_tokens=480,
        extra_body={"ignore_eos": True})
    reasoning, content, finish, _ = _stream_text(stream)
    assert finish == "content_filter"
    assert content.endswith("Blocked by Vigil.")
    assert "hello" not in content.lower()  # nothing of the blocked phrase leaked
    assert reasoning == BASE_REASONING  # released before the answer began
    metrics = httpx.get(f"{server.url}/metrics").text
    assert read_metric(metrics, "vigil_stream_cuts_total", model="vigil") == 1
    _eventually(lambda: engine.metric("vigil_engine_requests_aborted_total") > aborted_before)


def test_block_on_input_never_reaches_upstream(make_gateway: GatewayFactory,
                                               engine: EngineProcess) -> None:
    server = make_gateway(**_blocking(["vigil-block-test"]))
    finished_before = engine.metric("vigil_engine_requests_finished_total")
    messages = [{"role": "user", "content": "please vigil-block-test now"}]
    client = client_for(server)
    response = client.chat.completions.create(model="vigil", messages=messages)
    assert response.choices[0].finish_reason == "content_filter"
    assert response.choices[0].message.content == "Blocked by Vigil."
    _, content, finish, _ = _stream_text(client.chat.completions.create(
        model="vigil", messages=messages, stream=True))
    assert (content, finish) == ("Blocked by Vigil.", "content_filter")
    assert engine.metric("vigil_engine_requests_finished_total") == finished_before
    metrics = httpx.get(f"{server.url}/metrics").text
    assert read_metric(metrics, "vigil_judge_verdicts_total", judge="phrase",
                       action="block", where="input") == 2


def test_flag_lets_output_through_and_counts(make_gateway: GatewayFactory) -> None:
    server = make_gateway(models=ALIASES, judges={"phrase": {"enabled": True,
                                                             "phrases": ["says hello"]}},
                          policy={"rules": {"phrase": {"action": "flag"}}})
    client = client_for(server)
    response = client.chat.completions.create(model="vigil", messages=HELLO, temperature=0)
    assert response.choices[0].message.content == BASE_ANSWER
    _, content, _, _ = _stream_text(client.chat.completions.create(
        model="vigil", messages=HELLO, temperature=0, stream=True))
    assert content == BASE_ANSWER
    metrics = httpx.get(f"{server.url}/metrics").text
    # One verdict per exchange, stream or not (a stream is not counted per chunk).
    assert read_metric(metrics, "vigil_judge_verdicts_total", judge="phrase",
                       category="phrase", action="flag", where="output") == 2


def test_redact_in_response_and_stream(make_gateway: GatewayFactory) -> None:
    server = make_gateway(models=ALIASES, judges={"phrase": {"enabled": True,
                                                             "patterns": [r"h\w+o"]}},
                          policy={"rules": {"phrase": {"action": "redact"}}})
    client = client_for(server)
    response = client.chat.completions.create(model="vigil", messages=HELLO, temperature=0)
    assert response.choices[0].message.content == "The base model says [REDACTED]."
    _, content, _, _ = _stream_text(client.chat.completions.create(
        model="vigil", messages=HELLO, temperature=0, stream=True))
    assert "hello" not in content and "[REDACTED]" in content


# ----------------------------------------------------------------------------- disconnects


def test_client_disconnect_cancels_upstream(make_gateway: GatewayFactory,
                                            engine: EngineProcess) -> None:
    server = make_gateway(models=ALIASES)
    aborted_before = engine.metric("vigil_engine_requests_aborted_total", model="tiny")
    stream = client_for(server).chat.completions.create(
        model="vigil", messages=HELLO, stream=True, max_tokens=480,
        extra_body={"ignore_eos": True})
    for i, _ in enumerate(stream):
        if i == 3:
            break
    stream.close()
    _eventually(lambda: engine.metric("vigil_engine_requests_aborted_total", model="tiny")
                == aborted_before + 1)
    _eventually(lambda: engine.metric("vigil_engine_requests_running") == 0)


# ----------------------------------------------------------------------------- metrics


def test_metrics_have_the_right_labels(make_gateway: GatewayFactory) -> None:
    server = make_gateway(**_blocking(["nothing-matches-this"]))
    client = client_for(server)
    client.chat.completions.create(model="vigil", messages=HELLO, temperature=0)
    list(client.chat.completions.create(model="vigil", messages=HELLO, temperature=0,
                                        stream=True))
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=HELLO)
    text = httpx.get(f"{server.url}/metrics").text
    route = "/v1/chat/completions"
    assert read_metric(text, "vigil_requests_total", route=route, model="vigil",
                       status="200") == 2
    assert read_metric(text, "vigil_requests_total", route=route, model="unknown",
                       status="404") == 1
    for histogram in ("vigil_request_duration_seconds", "vigil_upstream_duration_seconds",
                      "vigil_gateway_overhead_seconds"):
        assert read_metric(text, f"{histogram}_count", route=route, model="vigil") == 2
    assert read_metric(text, "vigil_time_to_first_token_seconds_count", route=route,
                       model="vigil") == 1
    assert read_metric(text, "vigil_judge_duration_seconds_count", judge="phrase") > 0
    assert read_metric(text, "vigil_in_flight_requests", route=route) == 0


def _eventually(check, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)

