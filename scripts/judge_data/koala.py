"""Usage: python scripts/judge_data/koala.py GITDIR [OUTDIR]

Koala test set (arnav-gudibande/koala-test-set koala_test_set.jsonl, 180 user-written queries
from public LLM prompts) -> judge-data rows.
Label mapping: every prompt -> benign request, hazard none, category "koala_test".
License: Apache-2.0 (LICENSE, Apache License 2.0 text). README.md: 'Please do not use this test
set for training purposes', so the manifest marks it use=evaluate.
"""


from _common import Rows, head, json_lines, parse_args

NAME = "koala"
PATH = "koala_test_set.jsonl"


def main():
    args = parse_args(__doc__)
    w = Rows(NAME)
    for r in json_lines(args.gitdir, PATH):
        w.add(r["prompt"], False, "none", "koala_test", "en", "request", f"{NAME}:{r['id']}")
    w.finish(args.outdir, repository="arnav-gudibande/koala-test-set", commit=head(args.gitdir),
             paths=[PATH], license="Apache-2.0",
             license_evidence="LICENSE: Apache License Version 2.0 text; README.md: 'Please do "
                              "not use this test set for training purposes'",
             label_mapping="all 180 Koala test queries -> benign requests, hazard none")


if __name__ == "__main__":
    main()
