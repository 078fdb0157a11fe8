"""Usage: python scripts/judge_data/hatevalEs.py GITDIR [OUTDIR]

Convert cicl2018/HateEvalTeam Spanish train/dev TSVs (a third-party copy of SemEval-2019 Task 5
HatEval) into judge rows.
Label mapping: HS=1 (hate against immigrants or women) -> harmful S10; HS=0 -> benign. Test
split not used (no labels in this copy). @mentions -> @USER.
License: CC-BY-NC-4.0 (organisers' data-request notice; no LICENSE in the copy).
"""

import collections
import csv
import io

from _common import finish_statements, mask_mentions, parse_args, show

NAME = "hatevalEs"
BASE = "Data Files/Data Files/#2 Development-Spanish-A/"
PATHS = [BASE + "train_es.tsv", BASE + "dev_es.tsv"]


def main():
    args = parse_args(__doc__)
    rows, dropped = [], collections.Counter()
    for path in PATHS:
        split = "train" if path.endswith("train_es.tsv") else "dev"
        data = show(args.gitdir, path).decode("utf-8-sig")
        reader = csv.reader(io.StringIO(data), delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)  # header
        for rec in reader:
            if len(rec) != 5 or rec[2] not in ("0", "1"):
                dropped["malformed"] += 1
                continue
            tid, text, hs, tr, ag = rec
            rows.append({"text": mask_mentions(text), "harmful": hs == "1",
                         "category": f"HS={hs},TR={tr},AG={ag}", "language": "es",
                         "gid": f"{split}-{tid}"})
    finish_statements(args.outdir, NAME, args.gitdir, rows, dropped, {
        "repository": "cicl2018/HateEvalTeam", "paths": PATHS,
        "license": "CC-BY-NC-4.0",
        "license_evidence": "no LICENSE in cicl2018/HateEvalTeam (third-party copy of SemEval-2019 "
                            "Task 5 HatEval Spanish train/dev); organisers' data-request notice "
                            "states 'The HatEval dataser is released under the Creative Commons "
                            "CC-BY-NC-4.0 license'; msang/hateval terms.html line 12 refers to the "
                            "data licence",
        "label_mapping": "HS=1 (hate speech against immigrants or women) -> harmful S10; HS=0 -> "
                         "benign (tweets collected with women/immigrant keywords; HS=0 may still "
                         "contain non-hateful profanity, which the source does not separate). "
                         "Test split not used (no labels in this copy). @mentions -> @USER."})


if __name__ == "__main__":
    main()
