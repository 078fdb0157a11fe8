"""Usage: python scripts/judge_data/oktest.py GITDIR [OUTDIR]

OKTest (InvokerStark/OverKill data/OKTest.csv, data/OKTest_heldout.csv) -> judge-data rows.
OKTest holds manually checked benign questions that contain a sensitive-looking word (slurs in
a linguistic sense, "kill" a process, weapons in history ...), built to measure over-refusal.
Label mapping: every prompt -> benign request, hazard none; category "oktest" or
"oktest_heldout". The repository's data/xstest_v2_prompts.csv is not read (XSTest is reserved
for evaluation).
License: unknown (the repository has no LICENSE file; README.md states none).
"""

import csv
import hashlib
import io

from _common import Rows, head, parse_args, show_text

NAME = "oktest"
REPO = "InvokerStark/OverKill"
PATHS = {"data/OKTest.csv": "oktest", "data/OKTest_heldout.csv": "oktest_heldout"}


def main():
    args = parse_args(__doc__)
    gitdir = args.gitdir
    w = Rows(NAME)
    for path, cat in PATHS.items():
        for rec in csv.DictReader(io.StringIO(show_text(gitdir, path))):
            p = rec["prompt"]
            gid = hashlib.sha1(p.strip().lower().encode()).hexdigest()[:12]
            w.add(p, False, "none", cat, "en", "request", f"{NAME}:{gid}")
    w.finish(args.outdir, repository=REPO, commit=head(gitdir), paths=list(PATHS),
             license="unknown",
             license_evidence="no LICENSE file in the repository; README.md names no license",
             label_mapping="all OKTest prompts (benign questions with sensitive-looking words, "
                           "manually inspected by the authors) -> benign requests, hazard none; "
                           "data/xstest_v2_prompts.csv deliberately not read")


if __name__ == "__main__":
    main()
