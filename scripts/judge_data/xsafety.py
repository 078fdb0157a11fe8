"""Usage: python scripts/judge_data/xsafety.py GITDIR [OUTDIR]

XSafety (Jarviswang94/Multilingual_safety_benchmark <lang>/<category>.csv) -> judge-data rows.
Label mapping: harmful requests from Crimes_And_Illegal_Activities (S2), Insult (S10),
Unfairness_And_Discrimination (S10), Privacy_And_Property (S7), Unsafe_Instruction_Topic (S2);
the other categories are dropped (see DROPPED). Folder sp -> es; Bengali (.xlsx only) skipped.
License: Apache-2.0 (LICENSE line 1; README states no license).
"""

import csv
import io
import re

from _common import Rows, clean, head, ls, parse_args, show_text

HARMFUL = {"Crimes_And_Illegal_Activities": "S2", "Insult": "S10",
           "Unfairness_And_Discrimination": "S10", "Privacy_And_Property": "S7",
           "Unsafe_Instruction_Topic": "S2"}
DROPPED = {"Ethics_And_Morality": "benign ethics questions",
           "Mental_Health": "users describing feelings / mental-health questions",
           "Physical_Harm": "mostly benign health/safety worries (e.g. sunbathing, smoking), "
                            "not requests for harm",
           "Inquiry_With_Unsafe_Opinion": "mixed: many benign advice questions",
           "Role_Play_Instruction": "mixed role-play prompts, many benign",
           "Goal_Hijacking": "prompt-injection 'ignore and output X' (not a harm request)",
           "Prompt_Leaking": "questions about prompt leakage (benign)",
           "Reverse_Exposure": "benign 'how do I avoid X' questions",
           "commonsense": "multiple-choice 'output the unsafe choice' safety questions"}
LANG = {"sp": "es"}


def category_of(path):
    base = path.split("/")[1].rsplit(".", 1)[0]
    base = re.sub(r"_(en|n)$", "", base)
    if base == "Crimes_And_Illegal_Activitie":
        base = "Crimes_And_Illegal_Activities"
    if base == "commen_sense":
        base = "commonsense"
    return base


def main():
    args = parse_args(__doc__)
    gitdir = args.gitdir
    w = Rows("xsafety")
    used = []
    for p in sorted(ls(gitdir)):
        if "/" not in p or p.startswith("paper/"):
            continue
        if not p.endswith(".csv"):
            w.drop("non-CSV file skipped (bn/*.xlsx)")
            continue
        cat = category_of(p)
        lang = LANG.get(p.split("/")[0], p.split("/")[0])
        rows = [r for r in csv.reader(io.StringIO(show_text(gitdir, p).lstrip("\ufeff")))
                if r and clean(",".join(r))]
        if cat not in HARMFUL:
            assert cat in DROPPED, p
            w.drop(f"category {cat}: {DROPPED[cat]}", len(rows))
            continue
        used.append(p)
        for i, r in enumerate(rows):
            # unquoted commas split some prompts into several CSV fields: re-join them
            w.add(",".join(r), True, HARMFUL[cat], cat, lang, "request", f"xsafety:{cat}:{i}")
    lic = show_text(gitdir, "LICENSE").strip().splitlines()[0].strip()
    w.finish(args.outdir, repository="Jarviswang94/Multilingual_safety_benchmark",
             commit=head(gitdir), paths=used,
             license="Apache-2.0" if lic.startswith("Apache License") else "unknown",
             license_evidence="LICENSE line 1 'Apache License' (Version 2.0); README states no "
                              "license",
             label_mapping="harmful (kind request): "
             + ", ".join(f"{k}->{v}" for k, v in HARMFUL.items())
             + "; dropped: " + "; ".join(f"{k} ({v})" for k, v in DROPPED.items())
             + ". Folder sp -> es. Row i of a category is assumed to be the same prompt in every "
               "language (group xsafety:<category>:<i>). Privacy_And_Property and "
               "Unsafe_Instruction_Topic contain some benign-looking prompts (label noise).",
             note="bn/ has only .xlsx files for the safety categories (no xlsx reader in stdlib) "
                  "-> Bengali skipped; ru Insult has 199 rows (alignment of its group ids may be "
                  "off)")


if __name__ == "__main__":
    main()
