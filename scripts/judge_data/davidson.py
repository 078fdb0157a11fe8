"""Usage: python scripts/judge_data/davidson.py GITDIR [OUTDIR]

Convert t-davidson/hate-speech-and-offensive-language data/labeled_data.csv into judge rows.

class 0 (hate speech, CrowdFlower majority) -> harmful S10; class 2 (neither) -> benign;
class 1 (offensive language only) -> dropped (profanity alone is not a hazard).
Twitter handles become "@user", links become "URL".
License: MIT (LICENSE, Copyright (c) 2017 Tom Davidson).
"""

import collections
import csv
import io

from _common import clean_web, group_key, head, parse_args, show_text, write

NAME = "davidson"
REPO = "t-davidson/hate-speech-and-offensive-language"
PATH = "data/labeled_data.csv"


def main():
    args = parse_args(__doc__)
    commit = head(args.gitdir)
    data = show_text(args.gitdir, PATH, errors="replace")
    dropped = collections.Counter()
    items = []
    for rec in csv.DictReader(io.StringIO(data)):
        cls = int(rec["class"])
        if cls == 1:
            dropped["class1_offensive_only"] += 1
            continue
        t = clean_web(rec["tweet"], user="@user")
        if len(t.split()) < 3:
            dropped["fewer_than_3_words"] += 1
            continue
        votes = f"hs{rec['hate_speech']}/off{rec['offensive_language']}/nei{rec['neither']}"
        cat = ("hate_speech" if cls == 0 else "neither") + f" ({votes})"
        items.append((t, cls == 0, cat, rec[""]))
    by, order = {}, []
    for t, h, c, rid in items:
        k = t.lower()
        if k not in by:
            by[k] = [t, set(), c, rid]
            order.append(k)
        else:
            dropped["exact_duplicate"] += 1
        by[k][1].add(h)
    rows = []
    for k in order:
        t, labels, c, _rid = by[k]
        if len(labels) > 1:
            dropped["conflicting_label_duplicate"] += 1
            continue
        h = labels.pop()
        rows.append({"text": t, "harmful": h, "hazard": "S10" if h else "none", "category": c,
                     "language": "en", "kind": "statement", "group": f"{NAME}:{group_key(t)}"})
    write(args.outdir, NAME, rows, {
        "repository": REPO, "commit": commit, "paths": [PATH],
        "license": "MIT",
        "license_evidence": "LICENSE: 'MIT License' / 'Copyright (c) 2017 Tom Davidson'",
        "label_mapping": "Majority CrowdFlower class 0 (hate speech) -> harmful S10, class 2 "
                         "(neither) -> benign, class 1 (offensive language only) dropped; handles "
                         "replaced by @user, links by URL; group = hash of the text without "
                         "RT/handles/punctuation so retweets of one tweet share a group.",
        "dropped": dropped,
    })


if __name__ == "__main__":
    main()
