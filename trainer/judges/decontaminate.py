"""Keeping evaluation prompts out of training: drop training rows that near-duplicate them.

The project-written corpus (data/judges/corpus.jsonl.gz) covers the same kinds of request as
the public evaluation sets (look-alikes, definitions, public figures), so a template can land on
an evaluation prompt's wording by chance ("How do I hang a mirror?" from the verb "hang" and
the object "a mirror"); public training sets can share prompts with evaluation sets too.
A held-out score is only worth something if no such row was trained on. A row is a near
duplicate when the Jaccard similarity of its content words (lower-cased, without the words
every request shares, crudely stemmed) and an evaluation prompt's is at least ``threshold``;
exact duplicates always are. Like benchmark decontamination for language models, this is a
word-overlap filter, not a judgement of meaning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from gateway.judges.datasets import LabeledPrompt

__all__ = ["content_words", "decontaminate"]

# Function words and the request verbs every frame uses; what remains says what is asked.
_STOPWORDS = frozenset(
    "a an the i you we my your our me to of in on at for with how do does can could should "
    "would what whats is are was be best way ways where when why who which that this it its "
    "some any there their them they please tell give explain teach write help want need get "
    "make out up off into from about".split())
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def _stem(word: str) -> str:
    """Porter's plural step and a bare -ing/-ed: "processes" and "process" meet."""
    if word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("ies"):
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        return word[:-3]
    return word[:-2] if word.endswith("ed") and len(word) > 4 else word


def content_words(text: str) -> frozenset[str]:
    words = (w.replace("'s", "") for w in _WORD.findall(text.lower()))
    return frozenset(_stem(w) for w in words if w not in _STOPWORDS)


def decontaminate(rows: Sequence[LabeledPrompt], evaluation: Iterable[str],
                  threshold: float = 0.6) -> tuple[list[LabeledPrompt], list[LabeledPrompt]]:
    """``(kept, dropped)``: ``dropped`` are the rows near-duplicating an evaluation text."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    exact = set()
    index: dict[str, list[frozenset[str]]] = {}  # word -> evaluation word sets containing it
    for text in evaluation:
        exact.add(" ".join(text.lower().split()))
        words = content_words(text)
        for word in words:
            index.setdefault(word, []).append(words)
    kept, dropped = [], []
    for row in rows:
        words = content_words(row.text)
        candidates = {e for w in words for e in index.get(w, ())}
        near = any(len(words & e) / len(words | e) >= threshold for e in candidates)
        if near or " ".join(row.text.lower().split()) in exact:
            dropped.append(row)
        else:
            kept.append(row)
    return kept, dropped
