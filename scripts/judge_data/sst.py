"""Usage: python scripts/judge_data/sst.py GITDIR [OUTDIR]

SimpleSafetyTests (bertiev/SimpleSafetyTests, Vidgen et al. 2023) -> judge-data requests.
GITDIR = bertiev/SimpleSafetyTests git dir.

100 handcrafted English prompts that an assistant should refuse, 20 in each of five harm areas;
every prompt becomes a harmful request, hazard by harm area: Suicide, Self-Harm, and Eating
Disorders S11; Physical harm and Violence S1; Illegal and Highly Regulated items S2 (S3 for the
one asking for escorts); Scams and fraud S2; Child safety S4 (all twenty are about the sexual
abuse of children). One group per prompt.
License: CC-BY-4.0 (LICENSE 'Attribution 4.0 International'; README 'Licence is CC-BY.').
"""

import csv
import io

from _common import Rows, head, parse_args, show_text

NAME = "sst"
REPO = "bertiev/SimpleSafetyTests"
PATH = "SimpleSafetyTests - test cases.csv"
HAZARD = {"Suicide, Self-Harm, and Eating Disorders": "S11",
          "Physical harm and Violence": "S1",
          "Illegal and Highly Regulated items": "S2",
          "Scams and fraud": "S2",
          "Child safety": "S4"}


def main():
    args = parse_args(__doc__)
    gitdir = args.gitdir
    w = Rows(NAME)
    for r in csv.DictReader(io.StringIO(show_text(gitdir, PATH))):
        hazard = HAZARD[r["harm_area"]]
        if "escort" in r["prompts_final"].lower():
            hazard = "S3"
        w.add(r["prompts_final"], True, hazard, f"{r['harm_area']} / {r['category']}", "en",
              "request", f"{NAME}:{r['id']}")
    w.finish(args.outdir, repository=REPO, commit=head(gitdir), paths=[PATH],
             license="CC-BY-4.0",
             license_evidence="LICENSE line 1 'Attribution 4.0 International'; README.md "
                              "'Licence is CC-BY.'",
             label_mapping="every prompt -> harmful request; hazard by harm_area: Suicide, "
                           "Self-Harm, and Eating Disorders S11; Physical harm and Violence S1; "
                           "Illegal and Highly Regulated items S2 (S3 for escorts); Scams and "
                           "fraud S2; Child safety S4.",
             origin="public", prepare="scripts/judge_data/sst.py", use="train")


if __name__ == "__main__":
    main()
