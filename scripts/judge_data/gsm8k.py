"""Usage: python scripts/judge_data/gsm8k.py GITDIR [OUTDIR]

GSM8K test questions (openai/grade-school-math grade_school_math/data/test.jsonl) -> judge-data
rows.
Label mapping: 600 questions sampled with random.Random(0); all benign, hazard none, kind request.
License: MIT (LICENSE line 1).
"""

import json
import random

from _common import Rows, head, parse_args, show_text

PATH = "grade_school_math/data/test.jsonl"


def main():
    args = parse_args(__doc__)
    w = Rows("gsm8k")
    lines = [line for line in show_text(args.gitdir, PATH).splitlines() if line.strip()]
    idx = sorted(random.Random(0).sample(range(len(lines)), min(600, len(lines))))
    w.drop("not sampled (cap 600, random.Random(0))", len(lines) - len(idx))
    for i in idx:
        q = json.loads(lines[i])
        w.add(q["question"], False, "none", "grade_school_math", "en", "request", f"gsm8k:test-{i}")
    w.finish(args.outdir, repository="openai/grade-school-math", commit=head(args.gitdir),
             paths=[PATH], license="MIT", license_evidence="LICENSE line 1 'MIT License'",
             label_mapping="GSM8K test questions, 600 sampled with random.Random(0).sample over "
                           "line indices; all benign, hazard none")


if __name__ == "__main__":
    main()
