"""Usage: python scripts/judge_data/mtbench.py GITDIR [OUTDIR]

MT-Bench (lm-sys/FastChat fastchat/llm_judge/data/mt_bench) -> judge-data rows.
Label mapping: all benign (hazard none): first turn of each question as a request; first-turn
answers in reference_answer/model_answer files as replies (prompt = first turn, same group).
License: Apache-2.0 (LICENSE line 2).
"""


from _common import Rows, head, json_lines, ls, parse_args

QUESTIONS = "fastchat/llm_judge/data/mt_bench/question.jsonl"


def main():
    args = parse_args(__doc__)
    gitdir = args.gitdir
    w = Rows("mtbench")
    qs = {}
    for q in json_lines(gitdir, QUESTIONS):
        qs[q["question_id"]] = q
        w.add(q["turns"][0], False, "none", q["category"], "en", "request",
              f"mtbench:{q['question_id']}")
    # FastChat's git repo ships no mt_bench/model_answer/*.jsonl (downloaded from HF at run time);
    # the only model replies in the repo are the GPT-4 reference answers.
    ans = sorted(p for p in ls(gitdir) if p.startswith("fastchat/llm_judge/data/mt_bench/")
                 and ("/model_answer/" in p or "/reference_answer/" in p)
                 and p.endswith(".jsonl"))[:3]
    for p in ans:
        for a in json_lines(gitdir, p):
            q = qs.get(a["question_id"])
            if q is None:
                w.drop("answer without question")
                continue
            w.add(a["choices"][0]["turns"][0], False, "none", q["category"], "en", "reply",
                  f"mtbench:{q['question_id']}", prompt=q["turns"][0])
    w.finish(args.outdir, repository="lm-sys/FastChat", commit=head(gitdir),
             paths=[QUESTIONS, *ans], license="Apache-2.0",
             license_evidence="LICENSE line 2 'Apache License' (Version 2.0)",
             label_mapping="all rows benign (hazard none): first turn of each MT-Bench question "
                           "as request; first-turn answers in mt_bench "
                           "reference_answer/model_answer files as benign replies (prompt = "
                           "first turn, same group)",
             note="no model_answer/*.jsonl in the git repo; used reference_answer/gpt-4.jsonl "
                  "(GPT-4 answers to the math/reasoning/coding questions) as the only replies")


if __name__ == "__main__":
    main()
