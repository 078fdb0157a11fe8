"""Counterfactual copies of rows that name a group of people: the group swapped for another.

Hate-speech sets name a few groups far more often in hateful posts than in benign ones, so a
classifier learns the name as evidence ("We are a group of Muslims." read as hateful). Each
training row that names a group of ``data/judges/groups.json`` (plural nouns in the nine
languages the identity sets cover) gets ``copies`` copies, each with that name replaced by
another group's of the same language, keeping the label: "Muslims are vermin" stays hateful as
"Catholics are vermin", and "Muslims are part of our community" stays benign as "Refugees are
part of our community". Copies keep their row's group, so they land in its split.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from gateway.judges.datasets import LabeledPrompt

__all__ = ["GROUPS_FILE", "counterfactuals"]

GROUPS_FILE = Path(__file__).resolve().parents[2] / "data" / "judges" / "groups.json"
_NO_SPACES = {"zh"}  # scripts written without spaces: names match anywhere


@lru_cache(maxsize=2)
def _patterns(path: Path) -> dict[str, tuple[list[str], re.Pattern[str]]]:
    groups: dict[str, list[str]] = json.loads(path.read_text())["groups"]
    out = {}
    for language, names in groups.items():
        alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        pattern = (f"({alternatives})" if language in _NO_SPACES
                   else rf"(?<!\w)({alternatives})(?!\w)")
        out[language] = (names, re.compile(pattern, re.IGNORECASE))
    return out


def counterfactuals(row: LabeledPrompt, copies: int, rng: random.Random,
                    path: Path = GROUPS_FILE) -> list[LabeledPrompt]:
    """Up to ``copies`` copies of ``row`` with the first group it names swapped for others
    (none when it names none)."""
    known = _patterns(path).get(row.language)
    if known is None or copies < 1:
        return []
    names, pattern = known
    found = pattern.search(row.text)
    if found is None:
        return []
    named = found.group(1)
    others = [n for n in names if n.lower() != named.lower()]
    out = []
    for other in rng.sample(others, min(copies, len(others))):
        if named[:1].isupper() and not other[:1].isupper():
            other = other[:1].upper() + other[1:]
        text = pattern.sub(lambda m, o=other: o if m.group(1).lower() == named.lower()
                           else m.group(1), row.text)
        out.append(replace(row, text=text))
    return out
