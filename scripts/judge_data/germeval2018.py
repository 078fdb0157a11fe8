"""Usage: python scripts/judge_data/germeval2018.py GITDIR [OUTDIR]

Convert uds-lsv/GermEval-2018-Data germeval2018.{training,test}.txt (German tweets) into judge
rows.
Label mapping: OFFENSE/ABUSE -> harmful S10; OTHER/OTHER -> benign; OFFENSE/INSULT and
OFFENSE/PROFANITY -> dropped. |LBR| markers -> spaces, @mentions -> @USER.
License: CC-BY-4.0 (LICENSE.md/LICENSE.md).
"""

import collections

from _common import finish_statements, mask_mentions, parse_args, show

NAME = "germeval2018"
PATHS = ["germeval2018.training.txt", "germeval2018.test.txt"]


def main():
    args = parse_args(__doc__)
    rows, dropped = [], collections.Counter()
    for path in PATHS:
        split = "train" if "training" in path else "test"
        for i, line in enumerate(show(args.gitdir, path).decode("utf-8").split("\n")):
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 3:
                dropped["malformed"] += 1
                continue
            text, coarse, fine = parts
            text = mask_mentions(text.replace("|LBR|", " "))
            if fine == "ABUSE":
                harmful = True
            elif coarse == "OTHER":
                harmful = False
            else:  # INSULT (person-directed insult), PROFANITY
                dropped["label_" + fine] += 1
                continue
            rows.append({"text": text, "harmful": harmful, "category": coarse + "/" + fine,
                         "language": "de", "gid": f"{split}-{i}"})
    finish_statements(args.outdir, NAME, args.gitdir, rows, dropped, {
        "repository": "uds-lsv/GermEval-2018-Data", "paths": PATHS,
        "license": "CC-BY-4.0",
        "license_evidence": "LICENSE.md/LICENSE.md line 1: 'Attribution 4.0 International' "
                            "(Creative Commons)",
        "label_mapping": "OFFENSE/ABUSE -> harmful S10 (abusive language ascribing negative "
                         "group/identity qualities); OTHER/OTHER -> benign; OFFENSE/INSULT "
                         "(insult of an individual) and OFFENSE/PROFANITY -> dropped. |LBR| "
                         "line-break markers replaced by spaces; @mentions replaced by @USER."})


if __name__ == "__main__":
    main()
