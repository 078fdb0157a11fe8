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
    SampledExchange,
)
from gateway.events.scrub import PIIScrubber
from gateway.events.sink import AnyEvent, EventSink, topic_for
from gateway.judges.base import Action
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
                 reviewer: bool) -> Feedback:
        """Turn a rating into an event. Unknown ids, and other tenants' responses, are 404."""
        with self._lock:
            served = self._served.get(request.response_id)
        if served is None or served[0].tenant != info.tenant:
            raise APIError(f"No response '{request.response_id}' was served to you recently.",
                           status=404, code="response_not_found", param="response_id")
        original, exchange = served
        comment, _ = self.scrubber.scrub(request.comment) if request.comment else (None, 0)
        correction, _ = (self.scrubber.scrub(request.correction) if request.correction
                         else (None, 0))
        event = Feedback(tenant=info.tenant, request_id=info.request_id,
                         conversation_id=original.conversation_id,
                         response_id=request.response_id, rating=request.rating,
                         category=request.category, comment=comment, correction=correction,
                         from_reviewer=reviewer, exchange=self.scrub(exchange))
        if self.sink is not None:
            self.sink.submit(self.settings.topics.feedback, event)
        return event

    def adapter_changed(self, adapter: str, from_state: str | None, to_state: str,
                        reason: str) -> AdapterLifecycle | None:
        """An adapter lifecycle event, keyed by the adapter so its changes stay in order."""
        if self.sink is None:
            return None
        event = AdapterLifecycle(tenant=SYSTEM_TENANT, request_id=uuid.uuid4().hex,
                                 conversation_id=adapter, adapter=adapter,
                                 from_state=from_state, to_state=to_state, reason=reason)
        self.sink.submit(self.settings.topics.adapters, event)
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
