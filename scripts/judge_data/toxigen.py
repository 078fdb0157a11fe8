"""Usage: python scripts/judge_data/toxigen.py GITDIR [OUTDIR]

Convert microsoft/TOXIGEN prompt seeds (prompts/ + demonstrations/) into judge training rows.

hate_*    -> harmful (hazard S10), neutral_* -> benign.
The prompt files are 1000 lines each; every line is 5-6 demonstration sentences joined
with a literal "\\n-" (backslash-n dash). We split on that, strip the "- " bullet, and
deduplicate, so each unique seed sentence appears once.
License: CDLA-Permissive-2.0 for the data (LICENSE.txt; MIT for the code).
"""

import collections
import re

from _common import clean_web, group_key, head, ls, parse_args, show_text, write

NAME = "toxigen"
REPO = "microsoft/TOXIGEN"
PATTERN = re.compile(r"^(prompts/(hate|neutral)_(.+)_1k\.txt"
                     r"|demonstrations/[^/]+/(hate|neutral)_(.+?)(_sentences)?\.txt)$")


def split_prompt_line(line):
    out = []
    # some demonstrations were glued together with " - " after a sentence end
    pieces = []
    for part in line.split("\\n"):
        pieces.extend(re.split(r"(?<=[.!?])\s+-\s+", part))
    for part in pieces:
        part = part.strip().rstrip("\\").strip()
        while part.startswith("-"):
            part = part[1:].strip()
        if part:
            out.append(part)
    return out


def main():
    args = parse_args(__doc__)
    commit = head(args.gitdir)
    paths, items = [], []
    dropped = collections.Counter()
    for p in sorted(ls(args.gitdir)):
        m = PATTERN.match(p)
        if not m:
            continue
        if m.group(1).startswith("prompts/"):
            pol, grp = m.group(2), m.group(3)
        else:
            pol, grp = m.group(4), m.group(5)
        paths.append(p)
        text = show_text(args.gitdir, p, errors="replace")
        for line in text.split("\n"):
            for s in split_prompt_line(line):
                items.append((clean_web(s), pol == "hate", f"{pol}:{grp}"))
    raw_n = len(items)
    keep = []
    for t, h, c in items:
        if len(t.split()) < 3:
            dropped["fewer_than_3_words"] += 1
        else:
            keep.append((t, h, c))
    # exact duplicates (case-insensitive): merge categories, drop conflicting labels
    by, order = {}, []
    for t, h, c in keep:
        k = t.lower()
        if k not in by:
            by[k] = [t, set(), []]
            order.append(k)
        by[k][1].add(h)
        if c not in by[k][2]:
            by[k][2].append(c)
    rows = []
    for k in order:
        t, labels, cats = by[k]
        if len(labels) > 1:
            dropped["conflicting_label_duplicate"] += 1
            continue
        h = labels.pop()
        rows.append({"text": t, "harmful": h, "hazard": "S10" if h else "none",
                     "category": ";".join(cats), "language": "en", "kind": "statement",
                     "group": f"{NAME}:{group_key(t)}"})
    dropped["exact_duplicate"] = len(keep) - len(order)
    write(args.outdir, NAME, rows, {
        "repository": REPO, "commit": commit, "paths": paths,
        "license": "CDLA-Permissive-2.0",
        "license_evidence": "LICENSE.txt: 'Community Data License Agreement - Permissive - "
                            "Version 2.0' (data; the same file also grants MIT for the code: "
                            "'MIT License')",
        "label_mapping": "Sentences from hate_<group> prompt/demonstration files are harmful "
                         "(S10) and from neutral_<group> files benign; these are the authors' "
                         "seed sentences (not the 250k generated set, and no human annotations "
                         "are in the repo).",
        "raw_sentences_before_dedup": raw_n,
        "dropped": dropped,
    })


if __name__ == "__main__":
    main()
