"""Usage: python scripts/judge_data/selfinstruct.py GITDIR [OUTDIR]

Self-Instruct seed tasks (yizhongw/self-instruct data/seed_tasks.jsonl) -> judge-data rows.
Label mapping: text = instruction + input (if non-empty) per instance; all benign, hazard none,
kind request; category = task name.
License: Apache-2.0 (LICENSE line 1).
"""


from _common import Rows, head, instruction_text, json_lines, parse_args

PATH = "data/seed_tasks.jsonl"


def main():
    args = parse_args(__doc__)
    w = Rows("selfinstruct")
    for t in json_lines(args.gitdir, PATH):
        for k, inst in enumerate(t["instances"]):
            text = instruction_text(t["instruction"], inst.get("input"))
            w.add(text, False, "none", t["name"], "en", "request", f"selfinstruct:{t['id']}:{k}")
    w.finish(args.outdir, repository="yizhongw/self-instruct", commit=head(args.gitdir),
             paths=[PATH], license="Apache-2.0",
             license_evidence="LICENSE line 1 'Apache License' Version 2.0",
             label_mapping="175 human-written seed tasks; text = instruction + (input if "
                           "non-empty) per instance; all benign, hazard none; category = task "
                           "name")


if __name__ == "__main__":
    main()
