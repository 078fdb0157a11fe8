"""Usage: python scripts/judge_data/belleEval.py GITDIR [OUTDIR]

BELLE Chinese evaluation set (LianjiaTech/BELLE eval/eval_set.json, 1,000 Chinese instructions
over 10 classes) -> judge-data rows.
Label mapping: 500 instructions sampled with random.Random(0) (cap 500 per language), each ->
benign request, language zh, hazard none; category = class.
License: ODC-By-1.0 (DATA_LICENSE: 'Open Data Commons Attribution License (ODC-By)').
"""

import json
import random

from _common import Rows, clean, head, parse_args, show_text

NAME = "belleEval"
PATH = "eval/eval_set.json"
CAP = 500


def main():
    args = parse_args(__doc__)
    w = Rows(NAME)
    recs = [json.loads(x) for x in show_text(args.gitdir, PATH).splitlines() if x.strip()]
    chosen = sorted(random.Random(0).sample(range(len(recs)), min(CAP, len(recs))))
    w.drop(f"not sampled (cap {CAP}, random.Random(0))", len(recs) - len(chosen))
    for i in chosen:
        r = recs[i]
        w.add(r["question"], False, "none", clean(r["class"]), "zh", "request", f"{NAME}:{i}")
    w.finish(args.outdir, repository="LianjiaTech/BELLE", commit=head(args.gitdir),
             paths=[PATH], license="ODC-By-1.0",
             license_evidence="DATA_LICENSE: 'Open Data Commons Attribution License (ODC-By)' "
                              "(code: LICENSE, Apache-2.0)",
             label_mapping="500 of the 1,000 Chinese eval instructions (random.Random(0).sample "
                           "over line indices) -> benign requests, language zh, hazard none; "
                           "category = class; std_answer not used")


if __name__ == "__main__":
    main()
