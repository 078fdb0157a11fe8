"""Usage: python scripts/judge_data/mgsm.py GITDIR [OUTDIR]

MGSM questions (google-research/url-nlp mgsm/mgsm_<lang>.tsv) -> judge-data rows.
Label mapping: first TSV column of every language; row i is the same problem in every language
(group mgsm:<i>); all benign, hazard none, kind request.
License: CC-BY-4.0 (mgsm/LICENSE line 1).
"""

import re

from _common import Rows, head, ls, parse_args, show_text


def main():
    args = parse_args(__doc__)
    paths = sorted(p for p in ls(args.gitdir) if re.fullmatch(r"mgsm/mgsm_[a-z]+\.tsv", p))
    w = Rows("mgsm")
    for p in paths:
        lang = p.split("_")[1].split(".")[0]
        for i, line in enumerate(show_text(args.gitdir, p).splitlines()):
            if not line.strip():
                continue
            q = line.split("\t")[0]
            w.add(q, False, "none", "grade_school_math", lang, "request", f"mgsm:{i}")
    w.finish(args.outdir, repository="google-research/url-nlp", commit=head(args.gitdir),
             paths=paths, license="CC-BY-4.0",
             license_evidence="mgsm/LICENSE line 1 'Creative Commons Attribution 4.0 "
                              "International Public License (CC-BY)' (brief assumed CC BY-SA "
                              "4.0; the file says CC BY 4.0)",
             label_mapping="MGSM questions (first TSV column), all languages; row i is the same "
                           "problem in every language -> group mgsm:<i>; all benign, hazard none")


if __name__ == "__main__":
    main()
