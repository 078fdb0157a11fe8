"""Usage: python scripts/judge_data/hatexplain.py GITDIR [OUTDIR]

Convert hate-alert/HateXplain Data/dataset.json into judge rows.

Majority of the 3 annotators: hatespeech -> harmful S10, normal -> benign, offensive -> dropped,
no majority -> dropped. category = "<label>:<targets named by >= 2 annotators>".
License: MIT (LICENSE, Copyright (c) 2020 Punyajoy Saha).
NOTE: Data/dataset.json is ~12 MB; snapshots that omit files >= 4 MiB lack it, and then this
script exits with status 2 without writing anything.
"""

import collections
import json
import subprocess
import sys

from _common import clean_web, group_key, head, parse_args, show_text, write

NAME = "hatexplain"
REPO = "hate-alert/HateXplain"
PATH = "Data/dataset.json"


def main():
    args = parse_args(__doc__)
    commit = head(args.gitdir)
    try:
        data = json.loads(show_text(args.gitdir, PATH))
    except subprocess.CalledProcessError as e:
        sys.stderr.write(f"{PATH} not available in this snapshot "
                         f"({e.stderr.decode().strip()}); nothing written\n")
        sys.exit(2)
    dropped = collections.Counter()
    by, order = {}, []
    for pid, rec in data.items():
        labels = collections.Counter(a["label"] for a in rec["annotators"])
        lab, n = labels.most_common(1)[0]
        if n * 2 <= len(rec["annotators"]):
            dropped["no_majority"] += 1
            continue
        if lab == "offensive":
            dropped["offensive_majority"] += 1
            continue
        if lab not in ("hatespeech", "normal"):
            dropped["other_label"] += 1
            continue
        tc = collections.Counter(t for a in rec["annotators"] for t in set(a.get("target") or [])
                                 if t and t != "None")
        targets = sorted(t for t, c in tc.items() if c >= 2)
        t = " ".join(rec["post_tokens"]).replace("<user>", "@user").replace("<url>", "URL")
        t = clean_web(t)
        if len(t.split()) < 3:
            dropped["fewer_than_3_words"] += 1
            continue
        cat = f"{lab}:{','.join(targets)}" if targets else lab
        k = t.lower()
        if k not in by:
            by[k] = [t, set(), cat, pid]
            order.append(k)
        else:
            dropped["exact_duplicate"] += 1
        by[k][1].add(lab == "hatespeech")
    rows = []
    for k in order:
        t, labs, cat, _pid = by[k]
        if len(labs) > 1:
            dropped["conflicting_label_duplicate"] += 1
            continue
        h = labs.pop()
        rows.append({"text": t, "harmful": h, "hazard": "S10" if h else "none", "category": cat,
                     "language": "en", "kind": "statement", "group": f"{NAME}:{group_key(t)}"})
    write(args.outdir, NAME, rows, {
        "repository": REPO, "commit": commit, "paths": [PATH],
        "license": "MIT",
        "license_evidence": "LICENSE: 'MIT License' / 'Copyright (c) 2020 Punyajoy Saha'",
        "label_mapping": "Majority annotator label hatespeech -> harmful S10, normal -> benign, "
                         "offensive or no majority dropped; category keeps targets named by at "
                         "least 2 annotators.",
        "dropped": dropped,
    })


if __name__ == "__main__":
    main()
