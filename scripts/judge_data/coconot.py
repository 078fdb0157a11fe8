"""Usage: python scripts/judge_data/coconot.py GITDIR [OUTDIR]

CoCoNot (allenai/noncompliance data/*.jsonl) -> judge-data rows.
Label mapping:
- contrast set (data/coconot_contrast_eval.jsonl, and the prompts of the contrast preference set
  data/coconot_pref.jsonl): benign look-alikes of unsafe requests -> benign requests, hazard none;
  the preferred (compliant, "chosen") answer of each pref row -> benign reply (prompt = request);
- original set (data/coconot_eval.jsonl), subcategory "dangerous or sensitive topics",
  "privacy violations", "triggers for offensive language" -> harmful requests (hazard: privacy
  S7, offensive language S10, dangerous topics by keyword, see HAZARD_WORDS, default S6 since
  most are unsafe self-treatment / medical questions); every other subcategory (incomplete,
  unsupported, indeterminate, humanizing, copyright, misinformation, wildchats) dropped:
  noncompliance there is not about harm. data/coconot_train.jsonl (SFT set) is not in the
  snapshot (over 4 MiB) and is not used.
License: MIT (LICENSE line 1 'MIT License', 'Copyright (c) 2024 AI2').
"""

import json
import re

from _common import Rows, head, parse_args, show_text

NAME = "coconot"
REPO = "allenai/noncompliance"
ORIGINAL = "data/coconot_eval.jsonl"
CONTRAST = "data/coconot_contrast_eval.jsonl"
PREF = "data/coconot_pref.jsonl"

HARMFUL_SUB = {"privacy violations": "S7", "triggers for offensive language": "S10",
               "dangerous or sensitive topics": None}
# first match wins; applied to "dangerous or sensitive topics" prompts only
HAZARD_WORDS = [
    (r"suicid|self[- ]harm|kill myself|end my life|euthanas|cutting myself|starv|anorex|"
     r"bulimi|without (eating|drinking)|overdose", "S11"),
    (r"explosive|bomb|grenade|nerve agent|bioweapon|chemical weapon|anthrax|ricin|sarin|"
     r"uranium|napalm", "S9"),
    (r"child|minor\b|underage", "S4"),
    (r"kill|murder|poison|hurt|attack|assault|revenge|beat up|allerg", "S1"),
    (r"\bmeth\b|methamphetamine|cocaine|heroin|fentanyl|\bdrugs?\b|lsd|mdma|hack|"
     r"break into|steal|counterfeit|launder|smuggl|\bgun\b|firearm|illegal", "S2"),
]


def hazard(prompt, sub):
    h = HARMFUL_SUB[sub]
    if h:
        return h
    low = prompt.lower()
    for pat, code in HAZARD_WORDS:
        if re.search(pat, low):
            return code
    return "S6"


def jsonl(gitdir, path):
    return [json.loads(x) for x in show_text(gitdir, path).splitlines() if x.strip()]


def cat(r):
    return f"{r['category']} / {r['subcategory']}"


def main():
    args = parse_args(__doc__)
    gitdir = args.gitdir
    w = Rows(NAME)
    for r in jsonl(gitdir, CONTRAST):
        w.add(r["prompt"], False, "none", "contrast: " + cat(r), "en", "request",
              f"{NAME}:{r['id']}")
    for r in jsonl(gitdir, PREF):
        w.add(r["prompt"], False, "none", "contrast: " + cat(r), "en", "request",
              f"{NAME}:{r['id']}")
        w.add(r["chosen"], False, "none", "contrast: " + cat(r), "en", "reply",
              f"{NAME}:{r['id']}", prompt=r["prompt"])
    for r in jsonl(gitdir, ORIGINAL):
        sub = r["subcategory"]
        if sub not in HARMFUL_SUB:
            w.drop(f"original set, subcategory not about harm ({sub})")
            continue
        w.add(r["prompt"], True, hazard(r["prompt"], sub), "original: " + cat(r), "en",
              "request", f"{NAME}:{r['id']}")
    w.finish(args.outdir, repository=REPO, commit=head(gitdir), paths=[CONTRAST, PREF, ORIGINAL],
             license="MIT",
             license_evidence="LICENSE line 1 'MIT License', line 3 'Copyright (c) 2024 AI2'",
             label_mapping="contrast set (coconot_contrast_eval, coconot_pref prompts) -> benign "
                           "requests; pref 'chosen' (compliant) answers -> benign replies; "
                           "original set (coconot_eval) subcategories privacy violations -> "
                           "harmful S7, triggers for offensive language -> harmful S10, "
                           "dangerous or sensitive topics -> harmful, hazard by keyword (S11 "
                           "self-harm, S9 explosives/CBRN, S4 minors, S1 violence, S2 drugs/"
                           "hacking/crime, else S6 unsafe specialized advice); all other "
                           "original subcategories (incomplete, unsupported, indeterminate, "
                           "humanizing, copyright, misinformation, wildchats) dropped",
             note="category keeps CoCoNot's category / subcategory, prefixed with the set; for "
                  "contrast rows it names the unsafe category the benign prompt imitates")


if __name__ == "__main__":
    main()
