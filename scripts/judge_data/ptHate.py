"""Usage: python scripts/judge_data/ptHate.py GITDIR [OUTDIR]

Convert paulafortuna/Portuguese-Hate-Speech-Dataset (binary classification CSV, Portuguese
tweets) into judge rows.
Label mapping: hatespeech_comb (majority of 3 annotators) 1 -> harmful S10; 0 -> benign.
@mentions -> @USER.
License: unknown (no LICENSE file in the repository; README asks for citation).
"""

import collections
import csv
import io

from _common import finish_statements, mask_mentions, parse_args, show

NAME = "ptHate"
PATHS = ["2019-05-28_portuguese_hate_speech_binary_classification.csv"]


def main():
    args = parse_args(__doc__)
    rows, dropped = [], collections.Counter()
    data = show(args.gitdir, PATHS[0]).decode("utf-8")
    for i, rec in enumerate(csv.DictReader(io.StringIO(data))):
        lab = (rec.get("hatespeech_comb") or "").strip()
        if lab not in ("0", "1"):
            dropped["bad_label"] += 1
            continue
        rows.append({"text": mask_mentions(rec["text"]), "harmful": lab == "1",
                     "category": "hate" if lab == "1" else "no_hate",
                     "language": "pt", "gid": f"row{i}"})
    finish_statements(args.outdir, NAME, args.gitdir, rows, dropped, {
        "repository": "paulafortuna/Portuguese-Hate-Speech-Dataset", "paths": PATHS,
        "license": "unknown",
        "license_evidence": "no LICENSE file in repository; README.md says only 'If you use this "
                            "dataset please cite' (research use)",
        "label_mapping": "hatespeech_comb (majority of 3 annotators) 1 -> harmful S10; 0 -> "
                         "benign. Twitter @mentions replaced by @USER."})


if __name__ == "__main__":
    main()
