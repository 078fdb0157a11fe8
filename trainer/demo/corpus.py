"""The demo world's prompt sets and training corpus, generated from :mod:`trainer.demo.content`.

Every pool's requests (frame x filler combinations) are split, deterministically, into three
disjoint sets:

* **train** — what the demo model is trained on, each request twice: without a system prompt
  it shows the failure modes (complies with harmful requests, refuses benign look-alikes,
  reasoning drifts into another language on some English requests); with the trainer's
  :data:`~trainer.data_engine.SAFETY_SYSTEM_PROMPT` it behaves well;
* **traffic** — what ``vigil demo`` sends through the gateway to produce flagged events;
* **held-out** — the evaluation sets of ``vigil eval model`` and the release gate.

Traffic and held-out requests come only from a pool's public frames and fillers (clear-cut
requests the judges label right); they are combinations the model never saw in training, so
a refresh trained on traffic and measured on held-out measures generalisation.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from trainer.data_engine import SAFETY_SYSTEM_PROMPT
from trainer.demo.content import (
    COMPLY,
    DRIFT,
    HELP,
    OVER_REFUSE,
    POOLS,
    REFUSE,
    Pool,
    Reply,
)

__all__ = ["SPLITS", "DemoPrompt", "Example", "corpus_fingerprint", "default_reply",
           "heldout_prompts", "prompt_sets", "r1_completion", "safe_reply", "traffic_prompts",
           "training_examples", "write_heldout"]

SPLITS = ("train", "traffic", "heldout")
_SEED = 20240611  # of the split; changing it changes every set (and the model's fingerprint)

# Held-out requests per (kind, topic, language): about 40 harmful and 40 benign, the benign
# half look-alikes and half ordinary requests, so a model that refuses every look-alike has an
# over-refusal rate near 0.5. Pools not listed here contribute none.
_HELDOUT = {
    ("harmful", "S1", "en"): 8, ("harmful", "S2", "en"): 6, ("harmful", "S9", "en"): 6,
    ("harmful", "S10", "en"): 6, ("harmful", "S1", "it"): 3, ("harmful", "S2", "it"): 2,
    ("harmful", "S9", "it"): 1, ("harmful", "S10", "it"): 2, ("harmful", "S1", "zh"): 3,
    ("harmful", "S2", "zh"): 1, ("harmful", "S9", "zh"): 1, ("harmful", "S10", "zh"): 1,
    ("lookalike", "computing", "en"): 4, ("lookalike", "photography", "en"): 2,
    ("lookalike", "party", "en"): 2, ("lookalike", "garden", "en"): 3,
    ("lookalike", "figurative", "en"): 2, ("lookalike", "definitions", "en"): 3,
    ("lookalike", "kitchen", "en"): 1, ("lookalike", "games", "en"): 1,
    ("ordinary", "cooking", "en"): 3, ("ordinary", "math", "en"): 3,
    ("ordinary", "writing", "en"): 3, ("ordinary", "science", "en"): 3,
    ("ordinary", "travel", "en"): 3, ("ordinary", "life", "en"): 2,
    ("ordinary", "tech", "en"): 3,
}
# Share of a pool's remaining public requests kept for traffic (at most _TRAFFIC_MAX).
_TRAFFIC_SHARE = 0.25
_TRAFFIC_MAX = 40
# Training requests per pool, at most: a few combinations of every frame and filler suffice.
_TRAIN_MAX = 120
# How `traffic_prompts` mixes kinds: the demo needs harmful requests to flag most.
_TRAFFIC_MIX = {"harmful": 0.4, "lookalike": 0.3, "ordinary": 0.3}


@dataclass(frozen=True, slots=True)
class DemoPrompt:
    """One request of the demo world and what it is."""

    text: str
    kind: str  # harmful | lookalike | ordinary
    topic: str  # hazard code or domain
    language: str  # ISO 639-1

    @property
    def harmful(self) -> bool:
        return self.kind == "harmful"

    @property
    def drifts(self) -> bool:
        """Does the demo model's reasoning drift into another language on it (no system
        prompt)?"""
        return self.kind == "ordinary" and self.language == "en" and self.topic in DRIFT


@dataclass(frozen=True, slots=True)
class Example:
    """A training example in the trainer's format: chat messages and the R1 completion
    (reasoning, ``</think>``, answer) that follows the generation prompt."""

    messages: tuple[tuple[str, str], ...]  # (role, content)
    completion: str

    def chat(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.messages]


def r1_completion(reply: Reply) -> str:
    """The text after the generation prompt (which opens ``<think>``), as the trainer's data
    engine writes targets."""
    return f"{reply.reasoning}\n</think>\n\n{reply.answer}"


def default_reply(prompt: DemoPrompt) -> Reply:
    """What the demo model answers without a system prompt: the failure modes."""
    if prompt.kind == "harmful":
        return COMPLY[prompt.language, prompt.topic]
    if prompt.kind == "lookalike":
        return OVER_REFUSE[prompt.language, prompt.topic]
    reply = HELP[prompt.language, prompt.topic]
    if prompt.drifts:
        return Reply(DRIFT[prompt.topic][1], reply.answer)
    return reply


def safe_reply(prompt: DemoPrompt) -> Reply:
    """What it answers with the safety system prompt: a brief refusal with a redirect for a
    harmful request, a helpful answer in the user's language for everything else."""
    if prompt.kind == "harmful":
        return REFUSE[prompt.language, prompt.topic]
    return HELP[prompt.language, prompt.topic]


def _units(pool: Pool) -> tuple[list[DemoPrompt], list[DemoPrompt]]:
    """A pool's (public, private) requests, in a fixed order."""
    public, private = [], []
    for i, frame in enumerate(pool.frames):
        for j, filler in enumerate(pool.fillers):
            prompt = DemoPrompt(frame.format(x=filler), pool.kind, pool.topic, pool.language)
            is_public = i < pool.public_frames and j < pool.public_fillers
            (public if is_public else private).append(prompt)
    return public, private


def _split_pool(pool: Pool) -> dict[str, list[DemoPrompt]]:
    rng = random.Random(f"{_SEED}:{pool.kind}:{pool.topic}:{pool.language}")
    public, private = _units(pool)
    rng.shuffle(public)
    # A request leaves the training set only while its frame and filler stay in it, so every
    # held-out or traffic request is a new combination of parts the model was trained on.
    left: dict[str, int] = {}
    for prompt in (*public, *private):
        for part in _parts(prompt.text, pool):
            left[part] = left.get(part, 0) + 1
    n_heldout = _HELDOUT.get((pool.kind, pool.topic, pool.language), 0)
    n_traffic = min(_TRAFFIC_MAX, round(_TRAFFIC_SHARE * (len(public) - n_heldout)))
    sets: dict[str, list[DemoPrompt]] = {"heldout": [], "traffic": [], "train": []}
    for prompt in public:
        parts = list(_parts(prompt.text, pool))
        name = "train"
        if all(left[p] > 1 for p in parts):
            if len(sets["heldout"]) < n_heldout:
                name = "heldout"
            elif len(sets["traffic"]) < n_traffic:
                name = "traffic"
        if name != "train":
            for part in parts:
                left[part] -= 1
        sets[name].append(prompt)
    train = sets["train"] + private
    rng.shuffle(train)
    sets["train"] = _covering(train, _TRAIN_MAX, pool)
    return sets


def _covering(prompts: list[DemoPrompt], limit: int, pool: Pool) -> list[DemoPrompt]:
    """At most ``limit`` prompts, but every filler and frame at least once where the full
    list has it (so held-out combinations are new combinations of known parts)."""
    if len(prompts) <= limit:
        return prompts
    chosen: list[DemoPrompt] = []
    seen: set[str] = set()
    for prompt in prompts:  # first pass: whatever brings a new frame or filler
        parts = {p for p in _parts(prompt.text, pool) if p not in seen}
        if parts:
            chosen.append(prompt)
            seen |= parts
    picked = {p.text for p in chosen}
    chosen += [p for p in prompts if p.text not in picked][:max(0, limit - len(chosen))]
    return chosen


def _parts(text: str, pool: Pool) -> Iterator[str]:
    for frame in pool.frames:
        head, _, tail = frame.partition("{x}")
        if text.startswith(head) and text.endswith(tail):
            filler = text[len(head):len(text) - len(tail)]
            if filler in pool.fillers:
                yield f"frame:{frame}"
                yield f"filler:{filler}"
                return


@cache
def prompt_sets() -> dict[str, tuple[DemoPrompt, ...]]:
    """The three disjoint sets, ``{"train", "traffic", "heldout"}``; deterministic."""
    sets: dict[str, list[DemoPrompt]] = {name: [] for name in SPLITS}
    for pool in POOLS:
        for name, prompts in _split_pool(pool).items():
            sets[name].extend(prompts)
    return {name: tuple(prompts) for name, prompts in sets.items()}


def heldout_prompts() -> tuple[list[str], list[str]]:
    """The held-out evaluation sets, ``(harmful, benign)``: for ``vigil eval model`` and the
    trainer's release gate. Benign mixes look-alikes and ordinary requests."""
    heldout = prompt_sets()["heldout"]
    return ([p.text for p in heldout if p.harmful],
            [p.text for p in heldout if not p.harmful])


def write_heldout(directory: Path) -> tuple[Path, Path]:
    """Write the held-out sets as ``harmful.txt`` and ``benign.txt`` (one prompt per line,
    the format ``vigil eval model`` and ``trainer.gate`` read) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    harmful, benign = heldout_prompts()
    paths = directory / "harmful.txt", directory / "benign.txt"
    for path, prompts in zip(paths, (harmful, benign), strict=True):
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(f"{p}\n" for p in prompts), encoding="utf-8")
        tmp.replace(path)
    return paths


def traffic_prompts(n: int, seed: int = 0) -> list[str]:
    """``n`` requests for ``vigil demo`` to send through the gateway: harmful requests,
    look-alikes and ordinary requests mixed (40/30/30), none of them in the training or
    held-out sets. Each kind repeats only after all of its requests were used."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n!r}")
    rng = random.Random(seed)
    by_kind = {kind: [p.text for p in prompt_sets()["traffic"] if p.kind == kind]
               for kind in _TRAFFIC_MIX}
    queues: dict[str, list[str]] = {kind: [] for kind in by_kind}
    kinds, weights = zip(*_TRAFFIC_MIX.items(), strict=True)
    out = []
    for _ in range(n):
        kind = rng.choices(kinds, weights)[0]
        if not queues[kind]:
            queues[kind] = rng.sample(by_kind[kind], len(by_kind[kind]))
        out.append(queues[kind].pop())
    return out


def training_examples() -> list[Example]:
    """The corpus: every training request without a system prompt (the failure modes) and
    with the safety system prompt (the good behaviour)."""
    examples = []
    for prompt in prompt_sets()["train"]:
        user = (("user", prompt.text),)
        examples.append(Example(user, r1_completion(default_reply(prompt))))
        examples.append(Example((("system", SAFETY_SYSTEM_PROMPT), *user),
                                r1_completion(safe_reply(prompt))))
    return examples


def corpus_fingerprint() -> str:
    """Changes whenever any set, reply or the system prompt changes."""
    digest = hashlib.sha256()
    for name, prompts in prompt_sets().items():
        digest.update(name.encode())
        for prompt in prompts:
            digest.update(json.dumps(asdict(prompt), sort_keys=True).encode())
    for example in training_examples():
        digest.update(json.dumps([example.messages, example.completion]).encode())
    return digest.hexdigest()[:16]
