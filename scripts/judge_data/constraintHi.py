"""Usage: python scripts/judge_data/constraintHi.py GITDIR [OUTDIR]

Convert raunaks13/hostile-post-detection-hindi data/constraint_hindi_{train,valid}.csv (a
third-party copy of the CONSTRAINT-2021 Hindi hostility train/valid data) into judge rows.
Label mapping: any label set containing 'hate' -> harmful S10; 'non-hostile' -> benign;
fake / defamation / offensive without 'hate' -> dropped. @mentions -> @USER.
License: unknown (no LICENSE file in the repository).
"""

import collections
import csv
import io

from _common import finish_statements, mask_mentions, parse_args, show

NAME = "constraintHi"
PATHS = ["data/constraint_hindi_train.csv", "data/constraint_hindi_valid.csv"]


def main():
    args = parse_args(__doc__)
    rows, dropped = [], collections.Counter()
    for path in PATHS:
        split = "train" if path.endswith("_train.csv") else "valid"
        data = show(args.gitdir, path).decode("utf-8-sig")
        for rec in csv.DictReader(io.StringIO(data)):
            labs = [x.strip() for x in rec["Labels Set"].split(",")]
            if "hate" in labs:
                harmful = True
            elif labs == ["non-hostile"]:
                harmful = False
            else:
                dropped["hostile_without_hate:" + ",".join(sorted(labs))] += 1
                continue
            rows.append({"text": mask_mentions(rec["Post"]), "harmful": harmful,
                         "category": ",".join(labs), "language": "hi",
                         "gid": f"{split}-{rec['Unique ID'].strip()}"})
    finish_statements(args.outdir, NAME, args.gitdir, rows, dropped, {
        "repository": "raunaks13/hostile-post-detection-hindi", "paths": PATHS,
        "license": "unknown",
        "license_evidence": "no LICENSE file in repository; README.md: 'We used the dataset given "
                            "as part of the CONSTRAINT 2021 task' (third-party copy of the "
                            "CONSTRAINT-2021 Hindi hostility train/valid data)",
        "label_mapping": "any label set containing 'hate' -> harmful S10; 'non-hostile' -> benign; "
                         "fake / defamation / offensive without 'hate' -> dropped."})


if __name__ == "__main__":
    main()
