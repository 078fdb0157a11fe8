"""Event models: round trip, bus key, and decode errors with a reason."""

from __future__ import annotations

import json

import pytest

from gateway.events.schema import (
    AdapterLifecycle,
    EventDecodeError,
    Exchange,
    ExchangeMessage,
    Feedback,
    FlaggedExchange,
    JudgeLabel,
    decode_event,
    encode_event,
)
from gateway.events.sink import topic_for
from gateway.settings import TopicSettings


def _exchange() -> Exchange:
    return Exchange(route="chat", model_alias="vigil", upstream_model="safety-000001",
                    response_id="chatcmpl-1", content="ok", reasoning="hm",
                    messages=[ExchangeMessage(role="user", content="hi")])


@pytest.mark.parametrize("event", [
    FlaggedExchange(tenant="t", request_id="r", conversation_id="c", exchange=_exchange()),
    Feedback(tenant="t", request_id="r", conversation_id="c", response_id="x", rating="down",
             correction="better", from_reviewer=True, exchange=_exchange()),
    JudgeLabel(tenant="t", request_id="r", conversation_id="c", source="reviewer",
               where="output", text="an answer", prompt="a question", harmful=False),
    AdapterLifecycle(tenant="system", request_id="r", conversation_id="safety-000001",
                     adapter="safety-000001", from_state="candidate", to_state="canary"),
])
def test_round_trip_and_key(event: FlaggedExchange | Feedback | AdapterLifecycle) -> None:
    decoded = decode_event(encode_event(event))
    assert decoded == event
    assert type(decoded) is type(event)
    assert decoded.key() == f"{event.tenant}/{event.conversation_id}".encode()
    assert decoded.schema_version == 1 and len(decoded.event_id) == 32


def test_event_ids_are_unique() -> None:
    ids = {FlaggedExchange(tenant="t", request_id="r", conversation_id="c",
                           exchange=_exchange()).event_id for _ in range(1000)}
    assert len(ids) == 1000


@pytest.mark.parametrize(("data", "reason"), [
    (b"\xff\xfe not json", "not_json"),
    (b"[1, 2]", "malformed"),
    (json.dumps({"schema_version": 99, "kind": "feedback"}).encode(), "unknown_version"),
    (json.dumps({"schema_version": 1, "kind": "mystery"}).encode(), "malformed"),
    (json.dumps({"schema_version": 1, "kind": "feedback", "tenant": "t"}).encode(),
     "malformed"),
])
def test_decode_errors_carry_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(EventDecodeError) as err:
        decode_event(data)
    assert err.value.reason == reason


def test_every_event_type_has_its_own_topic_and_nothing_else_has_one() -> None:
    from gateway.events.schema import TOPIC_KEYS

    topics = TopicSettings()
    chosen = {topic_for(topics, kind.model_construct()) for kind in TOPIC_KEYS}
    assert len(chosen) == len(TOPIC_KEYS)  # one topic each, all named in TopicSettings
    with pytest.raises(TypeError, match="Exchange is not an event type"):
        topic_for(topics, _exchange())  # type: ignore[arg-type]
