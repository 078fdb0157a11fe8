"""Usage: python scripts/judge_data/lhsab.py GITDIR [OUTDIR]

Convert Hala-Mulki/L-HSAB-First-Arabic-Levantine-HateSpeech-Dataset Dataset/L-HSAB (Levantine
Arabic tweets) into judge rows.
Label mapping: hate -> harmful S10; normal -> benign; abusive -> dropped. @mentions -> @USER.
License: unknown (no LICENSE file in the repository).
"""

import collections
import csv
import io

from _common import finish_statements, mask_mentions, parse_args, show

NAME = "lhsab"
PATHS = ["Dataset/L-HSAB"]


def main():
    args = parse_args(__doc__)
    rows, dropped = [], collections.Counter()
    data = show(args.gitdir, PATHS[0]).decode("utf-8-sig")
    reader = csv.reader(io.StringIO(data), delimiter="\t")
    next(reader)  # header
    for i, rec in enumerate(reader):
        if len(rec) != 2:
            dropped["malformed"] += 1
            continue
        text, lab = rec[0], rec[1].strip().lower()
        if lab == "hate":
            harmful = True
        elif lab == "normal":
            harmful = False
        elif lab == "abusive":
            dropped["label_abusive"] += 1
            continue
        else:
            dropped["bad_label"] += 1
            continue
        rows.append({"text": mask_mentions(text), "harmful": harmful,
                     "category": lab, "language": "ar", "gid": f"row{i}"})
    finish_statements(args.outdir, NAME, args.gitdir, rows, dropped, {
        "repository": "Hala-Mulki/L-HSAB-First-Arabic-Levantine-HateSpeech-Dataset",
        "paths": PATHS,
        "license": "unknown",
        "license_evidence": "no LICENSE file in repository; README.md 'Paper Citation' section "
                            "only",
        "label_mapping": "hate -> harmful S10; normal -> benign; abusive (offensive/profane, not "
                         "identity-based) -> dropped."})


if __name__ == "__main__":
    main()
