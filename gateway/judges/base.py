"""The judging interface: what a judge sees, what it says, and how it follows a stream."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import BaseModel, Field

__all__ = [
    "Action",
    "ExchangeContext",
    "Judge",
    "Span",
    "StreamJudgeState",
    "Verdict",
    "Where",
]


class Where(StrEnum):
    """Which part of an exchange a verdict is about."""

    INPUT = "input"
    OUTPUT = "output"
    REASONING = "reasoning"


class Action(StrEnum):
    """What the gateway does about a verdict, in increasing order of severity."""

    ALLOW = "allow"
    FLAG = "flag"
    REDACT = "redact"
    BLOCK = "block"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Action.ALLOW: 0, Action.FLAG: 1, Action.REDACT: 2, Action.BLOCK: 3}


class Span(BaseModel):
    """A half-open character range ``[start, end)`` in the judged text."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Verdict(BaseModel):
    """One judge's finding about one part of an exchange.

    ``score`` is in [0, 1]: how strongly the judge believes ``category`` applies. The policy,
    not the judge, turns a score into an action; ``action`` is filled in by the policy.
    """

    judge: str
    category: str
    score: float = Field(ge=0.0, le=1.0)
    where: Where
    action: Action = Action.ALLOW
    spans: list[Span] = Field(default_factory=list)
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class ExchangeContext:
    """What a judge may know about the exchange besides the text it judges."""

    tenant: str
    model_alias: str
    request_text: str = ""


@dataclass(slots=True)
class StreamJudgeState:
    """Per-stream state of one judge: the text seen so far for one ``Where``."""

    where: Where
    text: str = ""
    extra: dict[str, object] = field(default_factory=dict)


class Judge(abc.ABC):
    """Scores text. Subclasses implement :meth:`judge`; streams re-judge by default.

    A judge must be safe to call from several requests at once (no per-request state on
    ``self``) and cheap: it runs on the request path.
    """

    name: str
    #: True when judging may block on the network (the pipeline then runs off the loop).
    blocking: bool = False

    @property
    def version(self) -> str | None:
        """The version of the model this judge runs now, for judges whose model is refreshed
        (gateway/judges/versions.py); recorded with each exchange it judged."""
        return None

    @abc.abstractmethod
    def judge(self, text: str, where: Where, context: ExchangeContext) -> list[Verdict]:
        """Return verdicts (possibly none) about ``text`` found at ``where``."""

    def start_stream(self, where: Where) -> StreamJudgeState:
        return StreamJudgeState(where=where)

    def feed(
        self, state: StreamJudgeState, delta: str, context: ExchangeContext
    ) -> list[Verdict]:
        """Judge a stream incrementally. The default re-judges all text seen so far,
        which is right for cheap judges; expensive ones override it with a window."""
        state.text += delta
        return self.judge(state.text, state.where, context)

    def flush(self, state: StreamJudgeState, context: ExchangeContext) -> list[Verdict]:
        """Judge whatever :meth:`feed` skipped (the stream ended, or text it has not read is
        about to be released). Judges that judge every chunk have nothing left and return
        nothing."""
        return []

    def unread(self, state: StreamJudgeState) -> int:
        """How many of the stream's newest characters :meth:`feed` has not judged yet (it
        may skip chunks to judge less often); the stream guard flushes before releasing
        them."""
        return 0
