"""Usage: python scripts/judge_data/xquad.py GITDIR [OUTDIR]

XQuAD questions (google-deepmind/xquad xquad.<lang>.json) -> judge-data rows.
Label mapping: questions only (no context); 400 question ids sampled once with random.Random(0)
over the ids common to all languages, used in every language; all benign, hazard none.
License: CC-BY-SA-4.0 (README.md; CC-BY-SA4.0.txt).
"""

import json
import random
import re

from _common import Rows, head, ls, parse_args, show_text


def main():
    args = parse_args(__doc__)
    gitdir = args.gitdir
    paths = sorted(p for p in ls(gitdir) if re.fullmatch(r"xquad\.[a-z]+\.json", p))
    per = {}
    for p in paths:
        lang = p.split(".")[1]
        qs = {}
        for art in json.loads(show_text(gitdir, p))["data"]:
            for para in art["paragraphs"]:
                for qa in para["qas"]:
                    qs[qa["id"]] = (qa["question"], art.get("title", ""))
        per[lang] = qs
    common = sorted(set.intersection(*(set(q) for q in per.values())))
    # same question ids in every language so that translations share a group
    chosen = sorted(random.Random(0).sample(common, min(400, len(common))))
    w = Rows("xquad")
    for lang, qs in per.items():
        w.drop("not sampled (cap 400 per language, random.Random(0))", len(qs) - len(chosen))
        for i in chosen:
            q, _title = qs[i]
            w.add(q, False, "none", "reading_comprehension_question", lang, "request", f"xquad:{i}")
    w.finish(args.outdir, repository="google-deepmind/xquad", commit=head(gitdir), paths=paths,
             license="CC-BY-SA-4.0",
             license_evidence="README.md line 134 'distributed under the CC BY-SA 4.0 license'; "
                              "CC-BY-SA4.0.txt",
             label_mapping="XQuAD questions only (no context); 400 question ids sampled once with "
                           "random.Random(0).sample over the sorted ids common to all languages, "
                           "used in every language; all benign, hazard none")


if __name__ == "__main__":
    main()
