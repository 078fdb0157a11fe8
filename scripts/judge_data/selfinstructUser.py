"""Usage: python scripts/judge_data/selfinstructUser.py GITDIR [OUTDIR]

Self-Instruct user-oriented evaluation set (yizhongw/self-instruct
human_eval/user_oriented_instructions.jsonl, 252 tasks, 1 instance each) -> judge-data rows.
Label mapping: all benign, hazard none: instruction + input (if non-empty) -> request; the
authors' written instance output -> reply (prompt = the request, same group); category =
motivation_app (the app that inspired the task).
License: Apache-2.0 (LICENSE line 1). human_eval/README.md asks not to use the set for training,
so the manifest marks it use=evaluate.
"""


from _common import Rows, head, instruction_text, json_lines, parse_args

NAME = "selfinstructUser"
PATH = "human_eval/user_oriented_instructions.jsonl"


def main():
    args = parse_args(__doc__)
    w = Rows(NAME)
    for t in json_lines(args.gitdir, PATH):
        for k, inst in enumerate(t["instances"]):
            text = instruction_text(t["instruction"], inst.get("input"))
            gid = f"{NAME}:{t['id']}:{k}"
            cat = t.get("motivation_app") or "user_oriented"
            w.add(text, False, "none", cat, "en", "request", gid)
            w.add(inst.get("output"), False, "none", cat, "en", "reply", gid, prompt=text)
    w.finish(args.outdir, repository="yizhongw/self-instruct", commit=head(args.gitdir),
             paths=[PATH], license="Apache-2.0",
             license_evidence="LICENSE line 1 'Apache License' Version 2.0; human_eval/README.md: "
                              "'Please don't hack this evaluation set and don't use it for any "
                              "training purpose!'",
             label_mapping="252 user-oriented tasks; instruction + (input if non-empty) -> benign "
                           "request; written instance output -> benign reply (same group); "
                           "hazard none; category = motivation_app")


if __name__ == "__main__":
    main()
