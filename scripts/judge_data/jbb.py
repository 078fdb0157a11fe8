"""Usage: python scripts/judge_data/jbb.py GITDIR [OUTDIR] [--benign-csv CSV]

JBB-Behaviors -> judge-data rows. GITDIR = JailbreakBench/artifacts git dir; --benign-csv = the
transcribed benign behaviours (default /work/judge-data/cache/jbb_benign_behaviors_transcribed.csv).
Label mapping: harmful behaviours -> harmful requests, hazard by JBB category (overridden per
behaviour, see CAT / BEHAVIOR); benign look-alikes -> benign, hazard none; rows whose Source is
TDC/HarmBench dropped.
License: MIT (JailbreakBench/artifacts LICENSE line 1; JBB-Behaviors upstream is MIT too).
The behaviour tables and helpers here are shared with jbb_replies.py.
"""

import collections
import csv
import json

from _common import Rows, clean, head, ls, parse_args, show_text

BENIGN_CSV = "/work/judge-data/cache/jbb_benign_behaviors_transcribed.csv"

# JBB-Behaviors: harmful behaviours come from the official JailbreakBench/artifacts
# repo (each artifact lists index, goal, behavior, category for all 100 behaviours).
# The Source column and the 100 benign look-alikes come from a copy of the
# JBB-Behaviors CSVs (Baisayan/hack@2b37da1c..., data/{harmful,benign}-behaviors.csv),
# because JailbreakBench/jailbreakbench has no snapshot here.
# Source column of harmful-behaviors.csv, index -> source (only non-"Original" listed).
TDC_HARMBENCH = {0, 4, 8, 9, 14, 15, 18, 19, 23, 24, 29, 40, 45, 46, 51, 52, 53, 54, 57,
                 60, 65, 71, 78, 79, 80, 87, 88}
ADVBENCH = {10, 11, 12, 13, 16, 20, 25, 26, 38, 39, 50, 61, 63, 64, 70, 75, 76, 77}


def source_of(i):
    return "TDC/HarmBench" if i in TDC_HARMBENCH else "AdvBench" if i in ADVBENCH else "Original"


CAT = {"Harassment/Discrimination": "S10", "Malware/Hacking": "S2", "Physical harm": "S1",
       "Economic harm": "S2", "Fraud/Deception": "S2", "Disinformation": "S2",
       "Sexual/Adult content": "S12", "Privacy": "S7", "Expert advice": "S6",
       "Government decision-making": "S2"}
BEHAVIOR = {"Defamation": "S5", "Biological weapons": "S9", "Suicide": "S11",
            "Eating disorder": "S11", "Election influencing": "S13",
            "Political disinformation": "S5", "Election denial": "S13",
            "Holocaust denial": "S10", "Sexual solicitation": "S4", "Child pornography": "S4",
            "Pedophilia": "S4", "Date rape drug": "S3", "Human trafficking": "S3",
            "Revenge porn": "S3", "Sexting": "S3", "Bestiality": "S3",
            "Blackmail": "S2", "Copyright circumvention": "S8", "Black market organs": "S2",
            "Emissions test evasion": "S2", "Opiods prescription": "S2",
            "Nuclear weapons": "S9", "Election tampering": "S13"}


def hazard(behavior, category):
    return BEHAVIOR.get(clean(behavior), CAT[category])


HAZ_DOC = ("hazard by JBB Category: Harassment/Discrimination->S10, Malware/Hacking->S2, "
           "Physical harm->S1, Economic harm->S2, Fraud/Deception->S2, Disinformation->S2 "
           "(no LG3 misinformation code), Sexual/Adult content->S12, Privacy->S7, "
           "Expert advice->S6, Government decision-making->S2; overridden by Behavior: "
           + ", ".join(f"{k}->{v}" for k, v in BEHAVIOR.items()))


def artifact_files(gitdir):
    return sorted(p for p in ls(gitdir) if p.startswith("attack-artifacts/")
                  and p.endswith(".json") and "test-artifact" not in p
                  and p.count("/") == 3)


def behaviours(gitdir):
    # a few behaviours differ slightly between artifact files (older JBB wording);
    # take the most frequent (goal, behavior, category) per index.
    votes = {}
    for p in artifact_files(gitdir):
        for j in json.loads(show_text(gitdir, p))["jailbreaks"]:
            i = int(j["index"])
            t = (clean(j["goal"]), clean(j["behavior"]), clean(j["category"]))
            votes.setdefault(i, collections.Counter())[t] += 1
    beh = {i: c.most_common(1)[0][0] for i, c in votes.items()}
    assert sorted(beh) == list(range(100))
    return beh


def main():
    args = parse_args(__doc__, extra=lambda p: p.add_argument(
        "--benign-csv", default=BENIGN_CSV, help=f"benign behaviours CSV (default {BENIGN_CSV})"))
    gitdir, benign_csv = args.gitdir, args.benign_csv
    w = Rows("jbb")
    beh = behaviours(gitdir)
    for i, (goal, b, cat) in sorted(beh.items()):
        if "harmbench" in source_of(i).lower():
            w.drop("harmful behaviour with Source TDC/HarmBench")
            continue
        w.add(goal, True, hazard(b, cat), cat, "en", "request", f"jbb:harmful-{i}")
    with open(benign_csv, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if "harmbench" in r["source"].lower():
                w.drop("benign behaviour with Source HarmBench")
                continue
            w.add(r["goal"], False, "none", r["category"], "en", "request",
                  f"jbb:benign-{r['index']}")
    hack = "Baisayan/hack@2b37da1c255e43e16a74ecd3e51c99ea992b5237:data/"
    w.finish(args.outdir,
             repository="JailbreakBench/artifacts (+ Baisayan/hack copy of JBB-Behaviors CSVs)",
             commit=head(gitdir),
             paths=["attack-artifacts/*/*/*.json (goal/behavior/category of harmful behaviours)",
                    hack + "harmful-behaviors.csv (Source column)",
                    hack + "benign-behaviors.csv (benign goals; transcribed to "
                    + benign_csv + ")"],
             license="MIT",
             license_evidence="JailbreakBench/artifacts LICENSE line 1 'MIT License'; README: "
                              "'Each artifact is released under MIT license'. JBB-Behaviors "
                              "upstream (JailbreakBench/jailbreakbench) is MIT but was not "
                              "available here.",
             label_mapping="harmful-behaviors -> harmful=True, benign-behaviors -> "
                           "harmful=False/hazard none; rows with Source TDC/HarmBench dropped. "
                           + HAZ_DOC,
             note="JailbreakBench/jailbreakbench had no snapshot; harmful goals taken from the "
                  "official artifacts repo (consistent across all 18 artifact files), Source "
                  "column and benign goals from a third-party copy (read via the file index, not "
                  "a git snapshot; benign goals transcribed). Source counts 55 Original/18 "
                  "AdvBench/27 TDC-HarmBench match the JBB paper.")


if __name__ == "__main__":
    main()
