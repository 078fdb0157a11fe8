"""Usage: python scripts/judge_data/haspeede2.py GITDIR [OUTDIR]

Convert mireab/i-hate-haspeede haspeede2_dev/haspeede2_dev_taskAB.tsv (a third-party copy of
the HaSpeeDe 2, EVALITA 2020, development set; Italian) into judge rows.
Label mapping: hs=1 -> harmful S10; hs=0 and stereotype=0 -> benign; hs=0 with
stereotype=1 -> dropped. @mentions -> @USER.
License: CC-BY-NC-SA-4.0 (organisers' msang/haspeede 2020/LICENSE.txt; no LICENSE in the copy).
"""

import collections
import csv
import io

from _common import finish_statements, mask_mentions, parse_args, show

NAME = "haspeede2"
PATHS = ["haspeede2_dev/haspeede2_dev_taskAB.tsv"]


def main():
    args = parse_args(__doc__)
    rows, dropped = [], collections.Counter()
    data = show(args.gitdir, PATHS[0]).decode("utf-8-sig")
    reader = csv.reader(io.StringIO(data), delimiter="\t", quoting=csv.QUOTE_NONE)
    next(reader)  # header
    for rec in reader:
        if len(rec) != 4 or rec[2] not in ("0", "1"):
            dropped["malformed"] += 1
            continue
        tid, text, hs, st = rec
        if hs == "1":
            harmful = True
        elif st == "0":
            harmful = False
        else:
            dropped["hs0_but_stereotype1"] += 1
            continue
        rows.append({"text": mask_mentions(text), "harmful": harmful,
                     "category": f"hs={hs},stereotype={st}", "language": "it",
                     "gid": f"dev-{tid.strip()}"})
    finish_statements(args.outdir, NAME, args.gitdir, rows, dropped, {
        "repository": "mireab/i-hate-haspeede", "paths": PATHS,
        "license": "CC-BY-NC-SA-4.0",
        "license_evidence": "third-party copy (no LICENSE in mireab/i-hate-haspeede) of the "
                            "HaSpeeDe 2 (EVALITA 2020) development set; the organisers' "
                            "repository msang/haspeede 2020/LICENSE.txt line 3: "
                            "'Attribution-NonCommercial-ShareAlike 4.0 International' "
                            "(organisers distribute it in a password-protected zip after a form)",
        "label_mapping": "hs=1 (hate against immigrants, Muslims, Roma) -> harmful S10; hs=0 and "
                         "stereotype=0 -> benign; hs=0 with stereotype=1 -> dropped (not clearly "
                         "normal). @mentions -> @USER."})


if __name__ == "__main__":
    main()
