"""Usage: python scripts/judge_data/alpacaeval.py GITDIR [OUTDIR]

AlpacaEval evaluation set (tatsu-lab/alpaca_eval) -> judge-data rows.
Reads results/text_davinci_003/model_outputs.json (the AlpacaEval 1 reference model's outputs),
which carries all 805 instructions of the evaluation set with their source dataset.
Label mapping: all benign (hazard none): each instruction -> request; the text-davinci-003
output -> reply (prompt = instruction, same group). category = AlpacaEval source subset
(helpful_base, koala, oasst, selfinstruct, vicuna).
License: CC-BY-NC-4.0 for the data (README.md line 4 'Data License CC By NC 4.0' badge; code is
Apache-2.0, LICENSE).
"""

import hashlib
import json

from _common import Rows, head, parse_args, show_text

NAME = "alpacaeval"
REPO = "tatsu-lab/alpaca_eval"
PATH = "results/text_davinci_003/model_outputs.json"


def main():
    args = parse_args(__doc__)
    gitdir = args.gitdir
    w = Rows(NAME)
    data = json.loads(show_text(gitdir, PATH))
    for r in data:
        gid = f"{NAME}:{hashlib.sha1(r['instruction'].encode()).hexdigest()[:12]}"
        w.add(r["instruction"], False, "none", r["dataset"], "en", "request", gid)
    for r in data:
        gid = f"{NAME}:{hashlib.sha1(r['instruction'].encode()).hexdigest()[:12]}"
        w.add(r["output"], False, "none", r["dataset"], "en", "reply", gid,
              prompt=r["instruction"])
    w.finish(args.outdir, repository=REPO, commit=head(gitdir), paths=[PATH],
             license="CC-BY-NC-4.0",
             license_evidence="README.md line 4: badge 'Data License CC By NC 4.0' (code is "
                              "Apache-2.0, LICENSE)",
             label_mapping="all benign (hazard none): the 805 AlpacaEval instructions -> "
                           "requests; text-davinci-003 reference outputs -> replies (prompt = "
                           "instruction, same group); category = AlpacaEval source subset",
             note="the selfinstruct (252), koala (156) and vicuna (80) subsets are the same "
                  "prompts as those test sets upstream; group = sha1 of the instruction")


if __name__ == "__main__":
    main()
