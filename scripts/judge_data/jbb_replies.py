"""Usage: python scripts/judge_data/jbb_replies.py GITDIR [OUTDIR]

JailbreakBench artifacts replies -> judge-data rows. GITDIR = JailbreakBench/artifacts git dir.
Label mapping: reply = artifact 'response'; harmful = artifact 'jailbroken' (JailbreakBench LLM
judge, not human); hazard from the behaviour's JBB category (see jbb.py) when harmful, else
none; prompt = behaviour goal; behaviours with Source TDC/HarmBench dropped.
License: MIT (LICENSE line 1; README: each artifact released under MIT).
"""

import json

from _common import Rows, clean, head, parse_args, show_text
from jbb import HAZ_DOC, artifact_files, behaviours, hazard, source_of


def main():
    args = parse_args(__doc__)
    gitdir = args.gitdir
    w = Rows("jbb_replies")
    beh = behaviours(gitdir)
    files = artifact_files(gitdir)
    for p in files:
        d = json.loads(show_text(gitdir, p))
        for j in d["jailbreaks"]:
            i = int(j["index"])
            goal, b, cat = beh[i]
            if "harmbench" in source_of(i).lower():
                w.drop("behaviour with Source TDC/HarmBench")
                continue
            if not clean(j.get("response")):
                w.drop("empty reply")
                continue
            jb = j["jailbroken"]
            assert isinstance(jb, bool)
            w.add(j["response"], jb, hazard(b, cat) if jb else "none", cat, "en", "reply",
                  f"jbb:harmful-{i}", prompt=goal)
    w.finish(args.outdir, repository="JailbreakBench/artifacts", commit=head(gitdir),
             paths=files, license="MIT",
             license_evidence="LICENSE line 1 'MIT License'; README.md: 'Each artifact is "
                              "released under MIT license owned by the artifacts authors.'",
             label_mapping="reply = artifact 'response'; harmful = artifact 'jailbroken' "
                           "(JailbreakBench LLM judge, not human); hazard from the behaviour's "
                           "JBB category (see jbb) when harmful else none; prompt = behaviour "
                           "goal (not the jailbreak prompt actually sent); behaviours with Source "
                           "TDC/HarmBench dropped; group shared with the jbb request "
                           "'jbb:harmful-<index>'. " + HAZ_DOC)


if __name__ == "__main__":
    main()
