"""What 500 labels teach the harm judge: ``vigil judges adapt`` on distributions the shipped
classifier handles badly, and what it costs everywhere else.

    .venv/bin/python -m bench.judge_adapt --data-dir DIR [--labels 500] [--sets ptHate,...]
        [--json OUT]

Each target set is one of the manifest's evaluation-only sources (hate speech in Portuguese,
Spanish, Levantine Arabic, Chinese, Italian and Hindi: the shipped classifier never trained on
them). Its rows are ordered by a hash of their group; the first ``--labels`` rows are the
labels file, adapted on exactly as `vigil judges adapt` does (a fifth held out for its gate),
and F1 at 0.5 is measured on up to 2,500 of the rest, before and after. The shared sets are
measured before and after each adaptation too: F1 where a set has both classes, else
accuracy; the worst change is reported.

The target and shared files are those `scripts/judge_data/` prepares into ``DIR/judges``
(checked against the manifest's SHA-256); the bench stops, naming the file, without them.
The replay is what `vigil judges adapt` finds on the machine (``$VIGIL_DATA_DIR``, default
../shared/data): on a fresh clone, the project's corpus and the shared sets.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from gateway.judges.classifier import ARTEFACT_DIR, HarmClassifier
from gateway.judges.datasets import LabeledPrompt, read_dataset
from trainer.judges.adapt import AdaptConfig, adapt, anchor_rows, compare_on, split_labels
from trainer.judges.data import DATA_DIR, REPO, Manifest, default_dirs, read_source
from trainer.judges.embeddings import EmbeddingCache

TARGETS = ("ptHate", "hatevalEs", "lhsab", "toxicn", "haspeede2", "constraintHi")
REST = 2500


def _order(rows: list[LabeledPrompt], seed: int) -> list[LabeledPrompt]:
    return sorted(rows, key=lambda r: hashlib.sha256(f"{seed}:{r.group}".encode()).digest())


def _shared(manifest: Manifest, dirs: list[Path]) -> list[tuple[str, list[LabeledPrompt]]]:
    shared = [("xstest_part_a", read_dataset(DATA_DIR / "xstest_part_a.csv", "xstest")),
              ("identity_mentions", read_dataset(REPO / "tests" / "data" /
                                                 "identity_mentions.jsonl", "jsonl"))]
    for name, limit in (("oktest", None), ("alpacaeval", 600), ("selfinstructUser", None),
                        ("wizardlm", None)):
        shared.append((name, read_source(manifest.source(name), dirs)[:limit]))
    return shared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=int, default=500)
    parser.add_argument("--sets", default=",".join(TARGETS))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR,
                        help="Where the target and shared sets are (in judges/).")
    args = parser.parse_args()
    manifest, dirs = Manifest.load(), default_dirs(args.data_dir)
    config = AdaptConfig()
    base = HarmClassifier.load(ARTEFACT_DIR)
    embed = EmbeddingCache(base.encoder) if base.encoder else None
    anchors, replay = anchor_rows(manifest, default_dirs(), config.anchor_rows, config.seed)
    shared = _shared(manifest, dirs)
    results: list[dict[str, Any]] = []
    print(f"replay: {replay['rows']} rows of {', '.join(replay['sources'])}")
    print(f"{'set':<14}{'labels':>7}{'rest':>6}{'F1 base':>9}{'adapted':>9}{'lift':>7}"
          f"   worst shared change")
    for name in args.sets.split(","):
        rows = _order(read_source(manifest.source(name), dirs), args.seed)
        labels, rest = rows[:args.labels], rows[args.labels:args.labels + REST]
        fit, _ = split_labels(labels, config)
        adapted = adapt(base, fit, anchors, config, embed=embed)
        target = compare_on(name, rest, base, adapted, config.threshold, embed)
        others = [compare_on(s, r, base, adapted, config.threshold, embed) for s, r in shared]
        worst = min(others, key=lambda o: o["change"])
        results.append({"set": name, "labels": len(labels), "fitted": len(fit),
                        "target": target, "shared": others})
        print(f"{name:<14}{len(labels):>7}{len(rest):>6}{target['live']:>9}"
              f"{target['candidate']:>9}{target['change']:>+7.3f}   "
              f"{worst['set']} {worst['measure']} {worst['change']:+.3f}")
        if embed is not None:
            embed.save()
    print("shared sets (base -> each adaptation):")
    for k, (set_name, _) in enumerate(shared):
        changes = " ".join(f"{r['shared'][k]['change']:+.3f}" for r in results)
        first = results[0]["shared"][k]
        print(f"  {set_name:<18}{first['measure']:<9}{first['live']:<8}{changes}")
    if args.json:
        args.json.write_text(json.dumps({"config": config.__repr__(), "replay": replay,
                                         "results": results}, indent=1))


if __name__ == "__main__":
    main()
