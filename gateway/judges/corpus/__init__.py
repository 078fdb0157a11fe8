"""Requests the project writes itself: the benign class of the harm classifier, and harmful
twins of the benign look-alikes, in English (``english``) and sixteen other languages
(``multilingual/<code>.py``). No external text: every string is written for this project.

:func:`corpus_rows` expands the English families (verbs by objects by request frames,
knowledge vs. doing, public vs. private data) by a seeded sample and adds the hand-written
sentences.
Rows carry a ``group``: all phrasings of one object (or topic, or sentence) share it, so a
split by group holds out whole objects — a held-out score then says how the classifier does on
targets it never saw, not on a rewording of ones it did.
"""

from __future__ import annotations

import importlib
import itertools
import random
import re
from pathlib import Path

from gateway.judges.corpus.english import (
    ACTIONS,
    BENIGN_SENTENCES,
    FRAMES,
    HARMFUL_SENTENCES,
    KNOW_FRAMES,
    KNOWLEDGE,
    PRIVACY,
    REPLY_FRAMES,
    TASKS,
)
from gateway.judges.datasets import LabeledPrompt

__all__ = ["LANGUAGES", "corpus_rows"]

_MULTILINGUAL_DIR = Path(__file__).parent / "multilingual"
#: Languages with a hand-written file (besides English).
LANGUAGES: tuple[str, ...] = tuple(sorted(p.stem for p in _MULTILINGUAL_DIR.glob("*.py")
                                          if not p.stem.startswith("_")))

# Verbs whose final consonant doubles before -ing.
_DOUBLING = frozenset("cut stab shut run get chop rip trap drop drug gag skin hit set put grab "
                      "snap slit strip plan spot whip pop slam swat nab mop dig stop ship shop "
                      "flip trim wrap gut mug rob jog stir knit spin swim tap zip plot beg".split())
_PER_ACTION_FRAMES = 2  # frames sampled per (verb, object) pair
_ACTION_BUDGET = {"benign": 260, "harmful": 900}  # rows per action group at most
_REPLY_SHARE = 0.35  # of the (verb, object) pairs also written as a reply or reasoning


def _gerund(phrase: str) -> str:
    """``"gut a fish"`` → ``"gutting a fish"`` (the first word only)."""
    verb, _, rest = phrase.partition(" ")
    if verb in _DOUBLING:
        ing = verb + verb[-1] + "ing"
    elif verb.endswith("ie"):
        ing = verb[:-2] + "ying"
    elif verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")):
        ing = verb[:-1] + "ing"
    else:
        ing = verb + "ing"
    return f"{ing} {rest}".strip()


def _frame(frame: str, action: str) -> str:
    text = frame.format(a=action, g=_gerund(action))
    return text[0].upper() + text[1:] if not frame.startswith(("how to", "best way")) else text


def _action_rows(rng: random.Random) -> list[LabeledPrompt]:
    rows = []
    for index, group in enumerate(ACTIONS):
        pairs = list(itertools.product(group.verbs, group.objects))
        budget = _ACTION_BUDGET["harmful" if group.harmful else "benign"]
        rng.shuffle(pairs)
        pairs = pairs[:max(1, budget // _PER_ACTION_FRAMES)]
        for verb, obj in pairs:
            action = f"{verb} {obj}"
            for frame in rng.sample(FRAMES, _PER_ACTION_FRAMES):
                rows.append(LabeledPrompt(_frame(frame, action), group.harmful,
                                          hazard=group.hazard, category=group.family,
                                          group=f"corpus:{index}:{obj}"))
    return rows


def _knowledge_rows(rng: random.Random) -> list[LabeledPrompt]:
    rows = []
    for k in KNOWLEDGE:
        for frame in rng.sample(KNOW_FRAMES, 6):
            text = frame.format(n=k.noun)
            rows.append(LabeledPrompt(text[0].upper() + text[1:], False,
                                      category="definition", group=f"corpus:know:{k.noun}"))
        for doing in k.doing:
            rows += [LabeledPrompt(_frame(frame, doing), True, hazard=k.hazard,
                                   category="doing", group=f"corpus:know:{k.noun}")
                     for frame in rng.sample(FRAMES, 4)]
    return rows


def _task_rows(rng: random.Random) -> list[LabeledPrompt]:
    return [LabeledPrompt(_frame(frame, task), False, category="everyday-task",
                          group=f"corpus:task:{task}")
            for task in TASKS for frame in rng.sample(FRAMES, 3)]


def _privacy_rows(rng: random.Random) -> list[LabeledPrompt]:
    p = PRIVACY
    rows = []
    for people, frames, per, harmful, slot, category in (
            (p.public_people, p.person_frames, 5, False, "p", "public-person"),
            (p.public_bodies, p.body_frames, 4, False, "b", "public-body"),
            (p.fictional, p.fictional_frames, 3, False, "f", "fictional-privacy"),
            (p.private_people, p.private_frames, 6, True, "q", "private-person")):
        for who in people:
            for frame in rng.sample(frames, min(per, len(frames))):
                text = frame.format(**{slot: who})
                rows.append(LabeledPrompt(text[0].upper() + text[1:], harmful,
                                          hazard="S7" if harmful else "none",
                                          category=category, group=f"corpus:privacy:{who}"))
    return rows


def _sentence_rows() -> list[LabeledPrompt]:
    rows = [LabeledPrompt(text, False, category=kind, group=f"corpus:sentence:{text}")
            for kind, texts in BENIGN_SENTENCES.items() for text in texts]
    rows += [LabeledPrompt(text, True, hazard=hazard, category="harmful-sentence",
                           group=f"corpus:sentence:{text}")
             for hazard, texts in HARMFUL_SENTENCES.items() for text in texts]
    return rows


def _multilingual_rows() -> list[LabeledPrompt]:
    rows = []
    for language in LANGUAGES:
        module = importlib.import_module(f"gateway.judges.corpus.multilingual.{language}")
        rows += [LabeledPrompt(text, False, category=kind, language=language,
                               group=f"corpus:{language}:{text}")
                 for kind, text in module.BENIGN]
        rows += [LabeledPrompt(text, True, hazard=hazard, category="harmful",
                               language=language, group=f"corpus:{language}:{text}")
                 for hazard, text in module.HARMFUL]
    return rows


def _reply_rows(rng: random.Random) -> list[LabeledPrompt]:
    """The actions of the request families as output: a reply or reasoning carrying one out
    is as harmful as the action."""
    actions = [(f"{verb} {obj}", group.hazard, group.family, f"corpus:{index}:{obj}")
               for index, group in enumerate(ACTIONS)
               for verb, obj in itertools.product(group.verbs, group.objects)]
    actions += [(task, "none", "everyday-task", f"corpus:task:{task}") for task in TASKS]
    actions += [(doing, k.hazard, "doing", f"corpus:know:{k.noun}")
                for k in KNOWLEDGE for doing in k.doing]
    return [LabeledPrompt(_frame(rng.choice(REPLY_FRAMES), action), hazard != "none",
                          hazard=hazard, category=f"reply:{family}", group=group)
            for action, hazard, family, group in actions if rng.random() < _REPLY_SHARE]


def corpus_rows(seed: int = 0) -> list[LabeledPrompt]:
    """Every generated row, deterministic for a seed; duplicates (same text) dropped."""
    rng = random.Random(seed)
    rows = [*_action_rows(rng), *_knowledge_rows(rng), *_task_rows(rng), *_privacy_rows(rng),
            *_sentence_rows(), *_multilingual_rows(), *_reply_rows(rng)]
    seen: set[str] = set()
    unique = []
    for row in rows:
        key = re.sub(r"\s+", " ", row.text.lower()).strip()
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique
