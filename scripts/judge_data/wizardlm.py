"""Usage: python scripts/judge_data/wizardlm.py GITDIR [OUTDIR]

WizardLM test set (nlpxucan/WizardLM WizardLM/data/WizardLM_testset.jsonl, 218 instructions over
29 skills) -> judge-data rows.
Label mapping: every instruction -> benign request, hazard none; category = Skill.
License: CC-BY-NC-4.0 (WizardLM/DATA_LICENSE line 1 'Attribution-NonCommercial 4.0
International').
"""


from _common import Rows, head, json_lines, parse_args

NAME = "wizardlm"
PATH = "WizardLM/data/WizardLM_testset.jsonl"


def main():
    args = parse_args(__doc__)
    w = Rows(NAME)
    for r in json_lines(args.gitdir, PATH):
        w.add(r["Instruction"], False, "none", r["Skill"], "en", "request",
              f"{NAME}:{r['idx']}")
    w.finish(args.outdir, repository="nlpxucan/WizardLM", commit=head(args.gitdir),
             paths=[PATH], license="CC-BY-NC-4.0",
             license_evidence="WizardLM/DATA_LICENSE line 1 'Attribution-NonCommercial 4.0 "
                              "International'",
             label_mapping="all 218 WizardLM test instructions -> benign requests, hazard none; "
                           "category = Skill")


if __name__ == "__main__":
    main()
