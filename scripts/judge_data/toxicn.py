"""Usage: python scripts/judge_data/toxicn.py GITDIR [OUTDIR]

Convert DUT-lujunyu/ToxiCN ToxiCN_1.0.csv (Chinese posts) into judge rows.
Label mapping: toxic_type 0 -> benign; toxic_type 2 (hate) with expression explicit/implicit
-> harmful S10; toxic_type 1 (general offensive) -> dropped; expression 3 'reporting' ->
dropped as ambiguous.
License: CC-BY-NC-ND-4.0 (README.md 'Licenses'; research only).
"""

import collections
import csv
import io
import json

from _common import finish_statements, parse_args, show

NAME = "toxicn"
PATHS = ["ToxiCN_1.0.csv"]
EXPR = {"0": "non-hate", "1": "explicit", "2": "implicit", "3": "reporting"}
TARGETS = ["LGBTQ", "region", "sexism", "racism", "others"]


def main():
    args = parse_args(__doc__)
    rows, dropped = [], collections.Counter()
    data = show(args.gitdir, PATHS[0]).decode("utf-8-sig")
    for i, rec in enumerate(csv.DictReader(io.StringIO(data))):
        tt, ex = rec["toxic_type"].strip(), rec["expression"].strip()
        topic = rec["topic"].strip()
        if tt == "0":
            harmful, cat = False, "non-toxic/topic=" + topic
        elif tt == "2" and ex in ("1", "2"):
            try:
                tv = json.loads(rec["target"])
                tg = ",".join(t for t, v in zip(TARGETS, tv, strict=False) if v)
            except Exception:
                tg = "?"
            harmful, cat = True, f"hate/{EXPR[ex]}/topic={topic}/target={tg}"
        elif tt == "2" and ex == "3":
            dropped["hate_reporting_ambiguous"] += 1
            continue
        elif tt == "1":
            dropped["general_offensive"] += 1
            continue
        else:
            dropped["bad_label"] += 1
            continue
        rows.append({"text": rec["content"], "harmful": harmful, "category": cat,
                     "language": "zh", "gid": f"{rec['platform'].strip()}-row{i}"})
    finish_statements(args.outdir, NAME, args.gitdir, rows, dropped, {
        "repository": "DUT-lujunyu/ToxiCN", "paths": PATHS,
        "license": "CC-BY-NC-ND-4.0",
        "license_evidence": "README.md section 'Licenses': 'This work is licensed under a Creative "
                            "Commons Attribution- NonCommercial-NoDerivatives 4.0 International "
                            "License (CC BY-NC-ND 4.0)' (also: research only, no commercial use)",
        "label_mapping": "toxic_type 0 (non-toxic; all posts are on race/gender/region/LGBT "
                         "topics) -> benign; toxic_type 2 (hate speech) with expression "
                         "explicit/implicit -> harmful S10; toxic_type 1 (general offensive "
                         "language) -> dropped; expression 3 'reporting' (reports of "
                         "discrimination, labelled hate by the dataset) -> dropped as ambiguous."})


if __name__ == "__main__":
    main()
