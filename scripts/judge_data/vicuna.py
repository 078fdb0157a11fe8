"""Usage: python scripts/judge_data/vicuna.py GITDIR [OUTDIR]

Vicuna benchmark (lm-sys/FastChat fastchat/llm_judge/data/vicuna_bench) -> judge-data rows.
Label mapping: all benign (hazard none): each of the 80 questions -> request (category as
given); GPT-4 reference answers (reference_answer/gpt-4.jsonl, 10 math/coding questions) ->
replies (prompt = question, same group).
License: Apache-2.0 (LICENSE line 2).
"""

import json

from _common import Rows, head, parse_args, show_text

NAME = "vicuna"
BASE = "fastchat/llm_judge/data/vicuna_bench/"
QUESTIONS = BASE + "question.jsonl"
ANSWERS = BASE + "reference_answer/gpt-4.jsonl"


def jsonl(gitdir, path):
    return [json.loads(x) for x in show_text(gitdir, path).splitlines() if x.strip()]


def main():
    args = parse_args(__doc__)
    gitdir = args.gitdir
    w = Rows(NAME)
    qs = {}
    for q in jsonl(gitdir, QUESTIONS):
        qs[q["question_id"]] = q
        w.add(q["turns"][0], False, "none", q["category"], "en", "request",
              f"{NAME}:{q['question_id']}")
    for a in jsonl(gitdir, ANSWERS):
        q = qs.get(a["question_id"])
        if q is None:
            w.drop("answer without question")
            continue
        w.add(a["choices"][0]["turns"][0], False, "none", q["category"], "en", "reply",
              f"{NAME}:{q['question_id']}", prompt=q["turns"][0])
    w.finish(args.outdir, repository="lm-sys/FastChat", commit=head(gitdir),
             paths=[QUESTIONS, ANSWERS], license="Apache-2.0",
             license_evidence="LICENSE line 2 'Apache License' (Version 2.0)",
             label_mapping="all benign (hazard none): 80 Vicuna-bench questions -> requests; "
                           "GPT-4 reference answers -> replies (prompt = question, same group)")


if __name__ == "__main__":
    main()
