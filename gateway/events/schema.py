"""Versioned event models: the one module that defines what goes on the event bus.

Every event carries ``schema_version``, a unique ``event_id`` (consumers are idempotent on it),
a UTC timestamp, the tenant, the request id and the conversation id. The bus key is
``tenant/conversation`` so one conversation stays ordered on one partition.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from gateway.judges.base import Action, Verdict, Where

__all__ = [
    "SCHEMA_VERSION",
    "TOPIC_KEYS",
    "AdapterLifecycle",
    "AnyEvent",
    "Event",
    "EventDecodeError",
    "Exchange",
    "ExchangeMessage",
    "Feedback",
    "FlaggedExchange",
    "JudgeLabel",
    "SampledExchange",
    "VerdictLabel",
    "VerdictRecord",
    "decode_event",
    "encode_event",
]

SCHEMA_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VerdictRecord(_Strict):
    """A judge's verdict as it travels on the bus (spans are not needed downstream)."""

    judge: str
    category: str
    score: float
    action: Action
    where: Where
    detail: str | None = None  # e.g. the hazard code of a harm verdict

    @classmethod
    def of(cls, verdict: Verdict) -> VerdictRecord:
        return cls(judge=verdict.judge, category=verdict.category, score=verdict.score,
                   action=verdict.action, where=verdict.where, detail=verdict.detail)


class ExchangeMessage(_Strict):
    role: str
    content: str


class Exchange(_Strict):
    """One request and the answer the gateway served, PII already scrubbed."""

    route: Literal["chat", "completions"]
    model_alias: str = Field(description="The public model name the client asked for.")
    upstream_model: str = Field(description="Upstream model or adapter version that answered.")
    response_id: str
    messages: list[ExchangeMessage] = Field(description="The request (a prompt is one user "
                                                        "message).")
    content: str = ""
    reasoning: str = ""
    finish_reason: str | None = None
    verdicts: list[VerdictRecord] = Field(default_factory=list)
    action: Action = Field(default=Action.ALLOW, description="What the gateway did.")
    scrubbed_spans: int = Field(default=0, ge=0, description="PII spans replaced before "
                                                             "the event left the gateway.")
    judge_versions: dict[str, str] = Field(default_factory=dict, description="The version "
                                           "of each refreshed judge that judged it (harm).")


class _Event(_Strict):
    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    ts: datetime = Field(default_factory=lambda: datetime.now(UTC))
    tenant: str
    request_id: str
    conversation_id: str

    def key(self) -> bytes:
        """Bus key: all events of one conversation land on one partition, in order."""
        return f"{self.tenant}/{self.conversation_id}".encode()


class FlaggedExchange(_Event):
    """An exchange a judge flagged, redacted or blocked: the trainer's main input."""

    kind: Literal["flagged_exchange"] = "flagged_exchange"
    exchange: Exchange


class SampledExchange(_Event):
    """A clean exchange sampled at the tenant's rate, replayed so refreshes do not forget."""

    kind: Literal["sampled_exchange"] = "sampled_exchange"
    exchange: Exchange


class VerdictLabel(_Strict):
    """What a feedback's verdict said (adapter.protocol.FeedbackVerdict, on the bus)."""

    harmful: bool
    where: Where
    hazard: str = "none"


class Feedback(_Event):
    """A rating of a served response. Only a reviewer's correction may become a target;
    a user's thumbs-down only raises the exchange for review or rejection sampling."""

    kind: Literal["feedback"] = "feedback"
    response_id: str
    rating: Literal["up", "down"]
    category: str | None = None
    comment: str | None = None
    correction: str | None = None
    verdict: VerdictLabel | None = Field(default=None, description="A judgement of one part "
                                         "of the exchange; a reviewer's also went out as a "
                                         "JudgeLabel.")
    from_reviewer: bool = False
    exchange: Exchange | None = Field(default=None, description="The rated exchange, when the "
                                                                "gateway still remembers it.")


class JudgeLabel(_Event):
    """A labelled text the judges learn from: a reviewer's verdict on a served response, or a
    guard model's verdict on a case the embedded judge was unsure of (the cascade). Only
    these become judge training rows; a user's feedback never does."""

    kind: Literal["judge_label"] = "judge_label"
    judge: Literal["harm"] = "harm"
    source: Literal["reviewer", "guard"]
    where: Where = Field(description="What was labelled: the request (input), the answer "
                                     "(output) or the reasoning trace.")
    text: str = Field(description="The labelled text, PII scrubbed.")
    prompt: str = Field(default="", description="The request an output or reasoning answers.")
    harmful: bool
    hazard: str = Field(default="none", description="S1 … S14, or none.")
    response_id: str | None = None
    judge_version: str | None = Field(default=None, description="The judge version that "
                                      "scored the text live.")
    score: float | None = Field(default=None, description="The live judge's score.")


class AdapterLifecycle(_Event):
    """A LoRA adapter changed state (candidate → canary → active → retired | rolled_back)."""

    kind: Literal["adapter_lifecycle"] = "adapter_lifecycle"
    adapter: str
    from_state: str | None = None
    to_state: str
    reason: str | None = None


#: Every event type, and the key of ``events.topics`` naming the topic it goes to. Adding an
#: event type is its model above, a row here, and its topic's name in
#: ``gateway.settings.TopicSettings``; producers, consumers and the chart follow from these.
TOPIC_KEYS: dict[type[_Event], str] = {
    FlaggedExchange: "flagged",
    SampledExchange: "samples",
    Feedback: "feedback",
    JudgeLabel: "labels",
    AdapterLifecycle: "adapters",
}

# The union of the types above, spelled out once for readers and type checkers; the check
# below keeps it and the table the same.
AnyEvent = FlaggedExchange | SampledExchange | Feedback | JudgeLabel | AdapterLifecycle
assert set(get_args(AnyEvent)) == set(TOPIC_KEYS), "AnyEvent and TOPIC_KEYS differ"
Event = Annotated[AnyEvent, Field(discriminator="kind")]
_EVENT = TypeAdapter(Event)


class EventDecodeError(ValueError):
    """A message that is not a valid event; ``reason`` is a short label for metrics."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def encode_event(event: AnyEvent) -> bytes:
    return event.model_dump_json().encode()


def decode_event(data: bytes) -> AnyEvent:
    """Parse and validate one message; raises :class:`EventDecodeError` with a reason."""
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EventDecodeError("not_json", f"not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise EventDecodeError("malformed", "an event is a JSON object")
    version = raw.get("schema_version")
    if version != SCHEMA_VERSION:
        raise EventDecodeError("unknown_version", f"unknown schema_version {version!r}")
    try:
        return _EVENT.validate_python(raw)
    except ValidationError as exc:
        raise EventDecodeError("malformed", f"invalid event: {exc.error_count()} error(s): "
                                            f"{exc.errors()[0]['msg']}") from exc
