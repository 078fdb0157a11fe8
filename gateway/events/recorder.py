"""From served exchanges to events: flag or sample, scrub PII, remember for feedback.

Responses are remembered raw, in memory only (bounded), so the request path pays for PII
scrubbing only when an event is actually emitted; nothing unscrubbed leaves the process.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from adapter.errors import APIError
from adapter.protocol import FeedbackRequest
from gateway.events.schema import (
    AdapterLifecycle,
    Exchange,
    ExchangeMessage,
    Feedback,
    FlaggedExchange,
    JudgeLabel,
    SampledExchange,
    VerdictLabel,
)
from gateway.events.scrub import PIIScrubber
from gateway.events.sink import AnyEvent, EventSink, topic_for
from gateway.judges.base import Action, Where
from gateway.judges.categories import Category
from gateway.settings import EventsSettings

__all__ = ["SYSTEM_TENANT", "ExchangeRecorder", "RequestInfo"]

#: The tenant of events no client caused (adapter lifecycle).
SYSTEM_TENANT = "_system"


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """Who asked and in which conversation; the bus key is ``tenant/conversation_id``."""

    request_id: str
    conversation_id: str
    tenant: str


class ExchangeRecorder:
    def __init__(self, settings: EventsSettings, sink: EventSink | None,
                 scrubber: PIIScrubber, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.sink = sink
        self.scrubber = scrubber
        self._rng = rng or random.Random()
        self._served: OrderedDict[str, tuple[RequestInfo, Exchange]] = OrderedDict()
        self._lock = threading.Lock()

    def record(self, info: RequestInfo, exchange: Exchange) -> AnyEvent | None:
        """Remember a served exchange; emit it if it was flagged or is sampled."""
        self._remember(info, exchange)
        if self.sink is None:
            return None
        event: AnyEvent
        if exchange.action.severity >= Action.FLAG.severity:
            event = FlaggedExchange(tenant=info.tenant, request_id=info.request_id,
                                    conversation_id=info.conversation_id,
                                    exchange=self.scrub(exchange))
        elif self._rng.random() < self._sample_rate(info.tenant):
            event = SampledExchange(tenant=info.tenant, request_id=info.request_id,
                                    conversation_id=info.conversation_id,
                                    exchange=self.scrub(exchange))
        else:
            return None
        self.sink.submit(topic_for(self.settings.topics, event), event)
        return event

    def feedback(self, info: RequestInfo, request: FeedbackRequest, *,
                 reviewer: bool) -> tuple[Feedback, JudgeLabel | None]:
        """Turn a rating into an event, and a reviewer's verdict into a judge label too (other
        keys' verdicts are kept in the feedback only). Unknown ids, and other tenants'
        responses, are 404."""
        with self._lock:
            served = self._served.get(request.response_id)
        if served is None or served[0].tenant != info.tenant:
            raise APIError(f"No response '{request.response_id}' was served to you recently.",
                           status=404, code="response_not_found", param="response_id")
        original, exchange = served
        comment, _ = self.scrubber.scrub(request.comment) if request.comment else (None, 0)
        correction, _ = (self.scrubber.scrub(request.correction) if request.correction
                         else (None, 0))
        verdict = (VerdictLabel(harmful=request.verdict.harmful, where=request.verdict.where,
                                hazard=request.verdict.hazard) if request.verdict else None)
        scrubbed = self.scrub(exchange)
        event = Feedback(tenant=info.tenant, request_id=info.request_id,
                         conversation_id=original.conversation_id,
                         response_id=request.response_id, rating=request.rating,
                         category=request.category, comment=comment, correction=correction,
                         verdict=verdict, from_reviewer=reviewer, exchange=scrubbed)
        label = None
        if reviewer and verdict is not None:
            label = self._label(info, original.conversation_id, scrubbed, verdict)
        if self.sink is not None:
            self.sink.submit(topic_for(self.settings.topics, event), event)
            if label is not None:
                self.sink.submit(topic_for(self.settings.topics, label), label)
        return event, label

    def _label(self, info: RequestInfo, conversation_id: str, exchange: Exchange,
               verdict: VerdictLabel) -> JudgeLabel:
        """The part of a (scrubbed) exchange a reviewer's verdict is about, as a label."""
        prompt = exchange.messages[-1].content if exchange.messages else ""
        text = {Where.INPUT: prompt, Where.OUTPUT: exchange.content,
                Where.REASONING: exchange.reasoning}[verdict.where]
        if not text.strip():
            raise APIError(f"Response '{exchange.response_id}' has no {verdict.where} to label.",
                           status=400, code="nothing_to_label", param="verdict.where")
        harm = next((v for v in exchange.verdicts
                     if v.category == Category.HARM and v.where is verdict.where), None)
        return JudgeLabel(tenant=info.tenant, request_id=info.request_id,
                          conversation_id=conversation_id, source="reviewer",
                          where=verdict.where, text=text,
                          prompt="" if verdict.where is Where.INPUT else prompt,
                          harmful=verdict.harmful, hazard=verdict.hazard,
                          response_id=exchange.response_id,
                          judge_version=exchange.judge_versions.get("harm"),
                          score=harm.score if harm else None)

    def guard_label(self, label: JudgeLabel) -> None:
        """A guard model's verdict on a case the embedded judge was unsure of (the cascade):
        scrubbed, then sent like a reviewer's label."""
        if self.sink is None:
            return
        text, _ = self.scrubber.scrub(label.text)
        prompt, _ = self.scrubber.scrub(label.prompt) if label.prompt else ("", 0)
        scrubbed = label.model_copy(update={"text": text, "prompt": prompt})
        self.sink.submit(topic_for(self.settings.topics, scrubbed), scrubbed)

    def adapter_changed(self, adapter: str, from_state: str | None, to_state: str,
                        reason: str) -> AdapterLifecycle | None:
        """An adapter lifecycle event, keyed by the adapter so its changes stay in order."""
        if self.sink is None:
            return None
        event = AdapterLifecycle(tenant=SYSTEM_TENANT, request_id=uuid.uuid4().hex,
                                 conversation_id=adapter, adapter=adapter,
                                 from_state=from_state, to_state=to_state, reason=reason)
        self.sink.submit(topic_for(self.settings.topics, event), event)
        return event

    def scrub(self, exchange: Exchange) -> Exchange:
        count = 0

        def clean(text: str) -> str:
            nonlocal count
            cleaned, found = self.scrubber.scrub(text)
            count += found
            return cleaned

        messages = [ExchangeMessage(role=m.role, content=clean(m.content))
                    for m in exchange.messages]
        return exchange.model_copy(update={
            "messages": messages, "content": clean(exchange.content),
            "reasoning": clean(exchange.reasoning), "scrubbed_spans": count})

    def _remember(self, info: RequestInfo, exchange: Exchange) -> None:
        if self.settings.response_memory == 0:
            return
        with self._lock:
            self._served[exchange.response_id] = (info, exchange)
            while len(self._served) > self.settings.response_memory:
                self._served.popitem(last=False)

    def _sample_rate(self, tenant: str) -> float:
        return self.settings.tenant_sample_rates.get(tenant, self.settings.sample_rate)
