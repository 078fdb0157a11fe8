"""Readers for the public safety datasets, in one shape: :class:`LabeledPrompt`.

Formats are those of ../shared/data (see its README) plus OpenAI's moderation set and plain
JSONL. The harm classifier is trained from these readers and evaluated with them, so a row
means the same thing in both.
"""

from __future__ import annotations

import ast
import csv
import gzip
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = ["FORMATS", "KINDS", "DatasetError", "LabeledPrompt", "fingerprint", "read_dataset"]

Format = Literal["xstest", "advbench", "harmbench", "multijail", "openai-moderation", "jsonl"]
FORMATS: tuple[str, ...] = ("xstest", "advbench", "harmbench", "multijail",
                            "openai-moderation", "jsonl")

KINDS: tuple[str, ...] = ("request", "statement", "reply")

# Dataset categories -> the hazard taxonomy (gateway/judges/taxonomy.py).
_HARMBENCH_HAZARDS = {"chemical_biological": "S9", "illegal": "S2", "cybercrime_intrusion": "S2",
                      "misinformation_disinformation": "S5", "harassment_bullying": "S10",
                      "harmful": "S1", "copyright": "S8"}
_MULTIJAIL_HAZARDS = {
    "Violence & incitement": "S1", "Discrimination & injustice": "S10",
    "Hate speech & offensive language": "S10", "Bullying & harassment": "S10",
    "Non-violent unethical behavior (e.g. lying, cheating, etc.)": "S2",
    "Conspiracy theories & misinformation": "S5", "Theft": "S2", "Weapons": "S9",
    "Adult content": "S12", "Substance abuse & banned substances": "S2",
    "Terrorism & organized crime": "S1", "Fraud & deception": "S2",
    "Sexual exploitation & human trafficking": "S3", "Animal abuse": "S1",
    "Property crime & vandalism": "S2", "Soliciting personally identifiable information": "S7",
    "Self-harm": "S11", "Child abuse": "S4"}
_MULTIJAIL_LANGUAGES = ("en", "zh", "it", "vi", "ar", "ko", "th", "bn", "sw", "jv")
# OpenAI moderation set label keys (Markov et al. 2023).
_OPENAI_HAZARDS = {"S": "S12", "H": "S10", "V": "S1", "HR": "S10", "SH": "S11", "S3": "S4",
                   "H2": "S10", "V2": "S1"}


@dataclass(frozen=True, slots=True)
class LabeledPrompt:
    text: str
    harmful: bool
    hazard: str = "none"  # S-code when the data says, else "none"
    category: str = ""  # the dataset's own category or type, for per-category reports
    language: str = "en"
    group: str = ""  # rows sharing a group (one prompt in ten languages) split together
    #: "request" (a user's prompt), "statement" (a post or sentence people wrote) or "reply"
    #: (an assistant's turn, judged as output given ``prompt``).
    kind: str = "request"
    prompt: str = ""  # the request a reply answers


def fingerprint(text: str) -> str:
    """A short stable id of a text: how the classifier records what it was trained on."""
    return hashlib.sha256(" ".join(text.lower().split()).encode()).hexdigest()[:16]


def read_dataset(path: Path, fmt: str) -> list[LabeledPrompt]:
    if fmt not in FORMATS:
        raise ValueError(f"unknown dataset format {fmt!r}; known: {', '.join(FORMATS)}")
    reader = {"xstest": _xstest, "advbench": _advbench, "harmbench": _harmbench,
              "multijail": _multijail, "openai-moderation": _openai_moderation,
              "jsonl": _jsonl}[fmt]
    rows = [row for row in reader(path) if row.text.strip()]
    if not rows:
        raise ValueError(f"{path}: no rows read as format {fmt!r}")
    return rows


def _csv(path: Path) -> Iterator[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        yield from csv.DictReader(f)


def _xstest(path: Path) -> Iterator[LabeledPrompt]:
    for row in _csv(path):
        yield LabeledPrompt(row["prompt"], row["label"] == "unsafe", category=row["type"],
                            group=f"xstest:{row['id']}")


def _advbench(path: Path) -> Iterator[LabeledPrompt]:
    for i, row in enumerate(_csv(path)):
        yield LabeledPrompt(row["goal"], True, category="advbench", group=f"advbench:{i}")


def _harmbench(path: Path) -> Iterator[LabeledPrompt]:
    for row in _csv(path):
        text = row["Behavior"]
        if row.get("ContextString"):
            text = f"{row['ContextString']}\n\n{text}"
        category = row["SemanticCategory"]
        yield LabeledPrompt(text, True, hazard=_HARMBENCH_HAZARDS.get(category, "none"),
                            category=category, group=f"harmbench:{row['BehaviorID']}")


def _multijail(path: Path) -> Iterator[LabeledPrompt]:
    for row in _csv(path):
        tags = ast.literal_eval(row["tags"]) if row.get("tags") else []
        hazard = next((_MULTIJAIL_HAZARDS[t] for t in tags if t in _MULTIJAIL_HAZARDS), "none")
        for language in _MULTIJAIL_LANGUAGES:
            if row.get(language):
                yield LabeledPrompt(row[language], True, hazard=hazard,
                                    category=tags[0] if tags else "", language=language,
                                    group=f"multijail:{row['id']}")


class DatasetError(ValueError):
    """A row of a data file that cannot be read; the message names the file and line."""


def _json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` per non-blank line."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise DatasetError(f"{path}, line {number}: not JSON ({e.msg})") from e
            if not isinstance(row, dict):
                raise DatasetError(f"{path}, line {number}: a row is a JSON object")
            yield number, row


def _openai_moderation(path: Path) -> Iterator[LabeledPrompt]:
    for i, (_, row) in enumerate(_json_lines(path)):
        labels = [k for k in _OPENAI_HAZARDS if row.get(k) == 1]
        yield LabeledPrompt(row["prompt"], bool(labels),
                            hazard=_OPENAI_HAZARDS[labels[0]] if labels else "none",
                            category=labels[0] if labels else "none", group=f"openai:{i}")


def _jsonl(path: Path) -> Iterator[LabeledPrompt]:
    """``{"text", "label": "safe"|"unsafe" | "harmful": bool, "hazard"?, "category"?,
    "language"?, "group"?, "kind"?: "request"|"statement"|"reply", "prompt"?}`` per line (a
    row without ``text`` is the request ``prompt``); plain or gzipped."""
    for i, (number, row) in enumerate(_json_lines(path)):
        def bad(what: str, line: int = number) -> DatasetError:
            return DatasetError(f"{path}, line {line}: {what}")

        label = row.get("harmful", row.get("label"))
        if label not in _LABELS:
            raise bad(f"label {label!r} is not one of {sorted(map(str, _LABELS))} (a row needs "
                      "'label' or 'harmful')")
        kind = row.get("kind", "request")
        if kind not in KINDS:
            raise bad(f"kind {kind!r} is not one of {KINDS}")
        text = row.get("text") or ("" if kind == "reply" else row.get("prompt")) or ""
        fields = {"text": text, "prompt": row.get("prompt", ""),
                  **{k: row.get(k, "") for k in ("hazard", "category", "language", "group")}}
        if wrong := [k for k, v in fields.items() if not isinstance(v, str)]:
            raise bad(f"{', '.join(wrong)} must be text")
        if not text.strip():
            raise bad("no text (a row needs 'text', or 'prompt' for a request)")
        yield LabeledPrompt(text, _LABELS[label], hazard=row.get("hazard") or "none",
                            category=row.get("category", ""),
                            language=row.get("language") or "en",
                            group=row.get("group") or f"{path.name.split('.')[0]}:{i}",
                            kind=kind, prompt=row.get("prompt", "") if kind == "reply" else "")


_LABELS: dict[object, bool] = {True: True, False: False, "unsafe": True, "safe": False,
                               "harmful": True, "benign": False, "1": True, "0": False}
