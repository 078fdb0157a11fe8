"""The generated corpus the harm classifier learns from, and the decontamination filter that
keeps evaluation prompts out of its training rows."""

from __future__ import annotations

import re
from collections import Counter

from gateway.judges.corpus import LANGUAGES, _gerund, corpus_rows
from gateway.judges.corpus.english import ACTIONS, FRAMES
from gateway.judges.datasets import LabeledPrompt, read_dataset
from gateway.judges.decontaminate import content_words, decontaminate
from gateway.judges.taxonomy import HAZARDS
from tests.servers import DATA


def test_corpus_is_deterministic_and_seeded() -> None:
    first, second = corpus_rows(0), corpus_rows(0)
    assert [r.text for r in first] == [r.text for r in second]
    assert [r.text for r in corpus_rows(1)] != [r.text for r in first]


def test_every_language_has_both_classes_and_every_row_is_well_formed() -> None:
    rows = corpus_rows(0)
    counts = Counter((r.language, r.harmful) for r in rows)
    assert {"en", *LANGUAGES} == {language for language, _ in counts}
    assert len(LANGUAGES) >= 16
    for language in {language for language, _ in counts}:
        assert counts[(language, False)] >= 100, language
        assert counts[(language, True)] >= 50, language
    assert len({r.text.lower() for r in rows}) == len(rows)  # no duplicates
    for row in rows:
        assert not re.search(r"[{}]", row.text), row.text  # every slot filled
        if row.language == "en":  # the lower-case frames are the casual ones
            assert row.text[0].isupper() or row.text.startswith(("how", "best")), row.text
        assert (row.hazard in HAZARDS) == row.harmful, row
        assert row.group.startswith("corpus:")


def test_action_families_pair_benign_and_harmful_uses_of_the_same_verbs() -> None:
    benign = {v for g in ACTIONS if not g.harmful for v in g.verbs}
    harmful = {v for g in ACTIONS if g.harmful for v in g.verbs}
    shared = benign & harmful
    assert {"kill", "gut", "butcher", "poison", "execute", "blow up"} <= shared
    assert len(shared) >= 20
    families = Counter(r.category for r in corpus_rows(0))
    for family in ("homonym-tech", "safe-target", "figurative", "victim-violent",
                   "definition", "doing", "public-person", "private-person"):
        assert families[family] >= 30, family


def test_replies_carry_the_label_of_their_action_and_share_its_group() -> None:
    """Output is judged too: a reply carrying out an action is as harmful as asking for it,
    and lands in the same held-out group as the requests for that action."""
    rows = corpus_rows(0)
    groups = {(r.group, r.harmful) for r in rows if not r.category.startswith("reply:")}
    replies = [r for r in rows if r.category.startswith("reply:")]
    assert sum(r.harmful for r in replies) >= 300 and sum(not r.harmful for r in replies) >= 300
    assert all((r.group, r.harmful) in groups for r in replies)


def test_gerunds() -> None:
    assert _gerund("gut a fish") == "gutting a fish"
    assert _gerund("bake bread") == "baking bread"
    assert _gerund("tie up a man") == "tying up a man"
    assert _gerund("kill") == "killing"
    assert all("{a}" in f or "{g}" in f for f in FRAMES)


def test_content_words_ignore_the_frame_and_the_inflection() -> None:
    assert content_words("How do I kill a Python process?") == \
        content_words("What's the best way to killing python processes")
    assert content_words("What is arson?") == frozenset({"arson"})


def test_decontamination_drops_near_duplicates_of_evaluation_prompts_only() -> None:
    rows = [LabeledPrompt("What's the best way to hang a picture frame?", False),
            LabeledPrompt("How do I hang a picture frame?", False),
            LabeledPrompt("How do I bake sourdough bread?", False),
            LabeledPrompt("How do I hang wallpaper?", False)]
    kept, dropped = decontaminate(rows, ["How can I best hang a picture frame?"])
    assert [r.text for r in dropped] == [rows[0].text, rows[1].text]
    assert [r.text for r in kept] == [rows[2].text, rows[3].text]


def test_the_corpus_after_decontamination_shares_no_prompt_with_xstest() -> None:
    xstest = [r.text for r in read_dataset(DATA / "xstest_part_a.csv", "xstest")]
    kept, dropped = decontaminate(corpus_rows(0), xstest)
    assert 0 < len(dropped) < 0.02 * len(kept)  # a filter, not a rewrite
    exact = {" ".join(t.lower().split()) for t in xstest}
    assert not exact & {" ".join(r.text.lower().split()) for r in kept}
