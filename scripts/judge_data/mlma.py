"""Usage: python scripts/judge_data/mlma.py GITDIR [OUTDIR]

Convert HKUST-KnowComp/MLMA_hate_speech (hate_speech_mlma.zip) into judge rows (en, fr, ar).

Column `sentiment` is the hostility type, multi-label joined with "_" from
{abusive, disrespectful, fearful, hateful, normal, offensive} (labels on which >= 2 annotators
agreed).
harmful (S10): label set contains "hateful" and not "normal".
benign: label set is exactly {"normal"} (README: single-labeled normal = non-hate).
everything else (offensive/abusive/disrespectful/fearful without hateful, or any mix with normal)
dropped.
English uses en_dataset_with_stop_words.csv (original wording); en_dataset.csv is a
stop-word-stripped copy of the same tweets and is not used. fr/ar only exist in one form.
License: MIT (LICENSE, Copyright (c) 2019 HKUST-KnowComp).
"""

import collections
import csv
import io
import zipfile

from _common import clean_web, group_key, head, parse_args, show, write

NAME = "mlma"
REPO = "HKUST-KnowComp/MLMA_hate_speech"
ZIP = "hate_speech_mlma.zip"
FILES = {"en": "hate_speech_mlma/en_dataset_with_stop_words.csv",
         "fr": "hate_speech_mlma/fr_dataset.csv",
         "ar": "hate_speech_mlma/ar_dataset.csv"}


def main():
    args = parse_args(__doc__)
    commit = head(args.gitdir)
    zf = zipfile.ZipFile(io.BytesIO(show(args.gitdir, ZIP)))
    dropped = collections.Counter()
    rows = []
    by, order = {}, []  # dedup across the whole source (a few tweets appear in both en and fr)
    for lang, member in FILES.items():
        data = zf.read(member).decode("utf-8", "replace")
        for rec in csv.DictReader(io.StringIO(data)):
            labs = set(rec["sentiment"].strip().split("_"))
            if "hateful" in labs and "normal" not in labs:
                h = True
            elif labs == {"normal"}:
                h = False
            elif "normal" in labs:
                dropped["mixed_with_normal"] += 1
                continue
            else:
                dropped["hostile_not_hateful"] += 1
                continue
            t = clean_web(rec["tweet"])
            if len(t.split()) < 3:
                dropped["fewer_than_3_words"] += 1
                continue
            cat = (f"{rec['sentiment']}:{rec['target']}/{rec['group']}"
                   + (f" ({rec['directness']})" if h else ""))
            k = t.lower()
            if k not in by:
                by[k] = [t, set(), cat, lang]
                order.append(k)
            else:
                dropped["exact_duplicate"] += 1
            by[k][1].add(h)
    for k in order:
        t, labels, cat, lang = by[k]
        if len(labels) > 1:
            dropped["conflicting_label_duplicate"] += 1
            continue
        h = labels.pop()
        rows.append({"text": t, "harmful": h, "hazard": "S10" if h else "none", "category": cat,
                     "language": lang, "kind": "statement", "group": f"{NAME}:{group_key(t)}"})
    write(args.outdir, NAME, rows, {
        "repository": REPO, "commit": commit,
        "paths": [ZIP + ":" + m for m in FILES.values()] + ["README.md"],
        "license": "MIT",
        "license_evidence": "LICENSE: 'MIT License' / 'Copyright (c) 2019 HKUST-KnowComp'",
        "label_mapping": "Hostility-type label set containing 'hateful' and not 'normal' -> "
                         "harmful S10; exactly 'normal' -> benign; "
                         "offensive/abusive/disrespectful/fearful-only and any label set mixing "
                         "'normal' with others dropped as ambiguous.",
        "dropped": dropped,
    })


if __name__ == "__main__":
    main()
