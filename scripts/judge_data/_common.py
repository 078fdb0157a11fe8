"""Shared pieces of the judge-data converters: git reads, text cleaning, dedup, one writer.

Imported by the converters beside it; they run as ``python scripts/judge_data/NAME.py GITDIR
[OUTDIR]``, which puts this folder first on ``sys.path``. Stdlib only.
"""

import argparse
import collections
import gzip
import hashlib
import html
import json
import random
import re
import subprocess
from pathlib import Path

# ../shared/data/judges seen from the repository root (the data directory the trainer reads).
DEFAULT_OUT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "judges"

SOURCE_KEYS = ("name", "repository", "commit", "paths", "license", "license_evidence",
               "label_mapping", "rows", "harmful", "benign", "dropped", "languages")


# --- command line ----------------------------------------------------------------------------


def parse_args(doc, *, extra=None):
    """GITDIR [OUTDIR]; ``extra(parser)`` may add options of its own."""
    p = argparse.ArgumentParser(description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("gitdir", help="bare git dir of the repository snapshot")
    p.add_argument("outdir", nargs="?", default=str(DEFAULT_OUT),
                   help=f"where NAME.jsonl.gz and NAME.source.json go (default {DEFAULT_OUT})")
    if extra:
        extra(p)
    return p.parse_args()


# --- git -------------------------------------------------------------------------------------


def git(gitdir, *args):
    return subprocess.run(["git", "--git-dir", str(gitdir), *args], check=True,
                          capture_output=True).stdout


def show(gitdir, path):
    """Bytes of ``path`` at HEAD."""
    return git(gitdir, "show", "HEAD:" + path)


def show_text(gitdir, path, encoding="utf-8", errors="strict"):
    return show(gitdir, path).decode(encoding, errors)


def json_lines(gitdir, path):
    """The JSON object on each non-blank line of ``path`` at HEAD."""
    return [json.loads(line) for line in show_text(gitdir, path).splitlines() if line.strip()]


def instruction_text(instruction, extra_input):
    """A Self-Instruct task as a user would send it: the instruction, then its input."""
    text, extra = clean(instruction), clean(extra_input)
    return text + "\n\n" + extra if extra else text


def head(gitdir):
    """Commit id of HEAD."""
    return git(gitdir, "rev-parse", "HEAD").decode().strip()


def ls(gitdir):
    """Every file path at HEAD."""
    return git(gitdir, "ls-tree", "-r", "--name-only", "HEAD").decode().splitlines()


# --- text ------------------------------------------------------------------------------------


def clean(s):
    """Collapse whitespace runs to one space and strip; None -> ""."""
    if s is None:
        return ""
    return re.sub(r"\s+", " ", str(s)).strip()


def clean_web(t, user=None):
    """HTML-unescape, links -> "URL", (if ``user``) @handles -> ``user``, collapse whitespace."""
    t = html.unescape(t)
    t = re.sub(r"https?://\S+", "URL", t)
    if user is not None:
        t = re.sub(r"@\w+", user, t)
    return re.sub(r"\s+", " ", t).strip()


def mask_mentions(t, user="@USER"):
    return re.sub(r"@\w+", user, t)


def group_key(t):
    """Hash of the text without RT / handles / URL / punctuation: retweets share a group."""
    k = t.lower().replace("'", "").replace("\u2019", "")
    k = re.sub(r"^rt\b", " ", k)
    k = re.sub(r"@\w+|\burl\b", " ", k)
    k = re.sub(r"[\W_]+", " ", k, flags=re.UNICODE).strip()
    return hashlib.sha1(k.encode()).hexdigest()[:12]


def too_short(text, lang):
    """Fewer than 3 words (fewer than 6 non-space characters for Chinese)."""
    if lang == "zh":
        return len(re.sub(r"\s", "", text)) < 6
    return len(text.split()) < 3


# --- output ----------------------------------------------------------------------------------


def write(outdir, name, rows, meta):
    """Write NAME.jsonl.gz (rows in the given order, byte-for-byte reproducible) and
    NAME.source.json (``meta`` plus counts: rows, harmful, benign, languages)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with (outdir / f"{name}.jsonl.gz").open("wb") as fh, \
            gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as gz:
        for r in rows:
            gz.write((json.dumps(r, ensure_ascii=False) + "\n").encode("utf-8"))
    h = sum(bool(r["harmful"]) for r in rows)
    meta = dict(meta, name=name, rows=len(rows), harmful=h, benign=len(rows) - h,
                dropped=dict(meta.get("dropped", {})),
                languages=dict(collections.Counter(r["language"] for r in rows)))
    meta = {**{k: meta[k] for k in SOURCE_KEYS}, **{k: v for k, v in meta.items()
                                                     if k not in SOURCE_KEYS}}
    with (outdir / f"{name}.source.json").open("w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
    summary = ("name", "rows", "harmful", "benign", "dropped", "languages")
    print(json.dumps({k: meta[k] for k in summary}, ensure_ascii=False))


class Rows:
    """Rows of one source: cleaned, de-duplicated case-insensitively, drops counted."""

    def __init__(self, name):
        self.name = name
        self.rows = []
        self.seen = set()
        self.dropped = collections.Counter()

    def drop(self, reason, n=1):
        self.dropped[reason] += n

    def add(self, text, harmful, hazard, category, language, kind, group, prompt=None):
        text = clean(text)
        if not text:
            self.drop("empty text")
            return
        key = text.lower()
        if key in self.seen:
            self.drop("exact duplicate (case-insensitive)")
            return
        self.seen.add(key)
        r = {"text": text, "harmful": bool(harmful), "hazard": hazard, "category": category,
             "language": language, "kind": kind, "group": f"{group}"}
        if kind == "reply":
            r["prompt"] = clean(prompt)
        self.rows.append(r)

    def finish(self, outdir, **meta):
        write(outdir, self.name, self.rows, dict(meta, dropped=self.dropped))


def finish_statements(outdir, name, gitdir, rows, dropped, meta, cap=6000):
    """Hate-speech style sources: ``rows`` are dicts with text, harmful, category, language,
    gid (already label-mapped). Cleans whitespace, drops empty / too short / duplicate texts,
    samples down to ``cap`` per class proportionally (random.Random(0)), writes the outputs
    (hazard S10 when harmful, kind statement, group NAME:gid)."""
    dropped = collections.Counter(dropped)
    seen = set()
    kept = []
    for r in rows:
        t = clean(r["text"])
        if not t:
            dropped["empty_text"] += 1
            continue
        if too_short(t, r["language"]):
            dropped["too_short"] += 1
            continue
        key = t.lower()
        if key in seen:
            dropped["duplicate"] += 1
            continue
        seen.add(key)
        kept.append(dict(r, text=t))
    if len(kept) > cap:
        rng = random.Random(0)
        idx_by_cls = collections.defaultdict(list)
        for i, r in enumerate(kept):
            idx_by_cls[r["harmful"]].append(i)
        n = len(kept)
        classes = sorted(idx_by_cls)
        quotas = {c: round(cap * len(idx_by_cls[c]) / n) for c in classes}
        quotas[classes[-1]] += cap - sum(quotas.values())
        chosen = []
        for c in classes:
            chosen += rng.sample(idx_by_cls[c], quotas[c])
        chosen = sorted(chosen)
        dropped[f"cap_{cap}_sample"] += n - len(chosen)
        kept = [kept[i] for i in chosen]
    out = [{"text": r["text"], "harmful": bool(r["harmful"]),
            "hazard": "S10" if r["harmful"] else "none", "category": r["category"],
            "language": r["language"], "kind": "statement", "group": f"{name}:{r['gid']}"}
           for r in kept]
    write(outdir, name, out, dict(meta, commit=head(gitdir),
                                  dropped=dict(sorted(dropped.items()))))


def sample_balanced(items, cap, label, seed=0):
    """At most ``cap`` of ``items``, as equal a share per ``label(item)`` as the classes allow
    (a class smaller than its share gives the rest to the others), drawn with
    random.Random(seed); the chosen items keep their original order."""
    by = collections.defaultdict(list)
    for i, it in enumerate(items):
        by[label(it)].append(i)
    if len(items) <= cap:
        return list(items)
    classes = sorted(by, key=lambda c: (len(by[c]), str(c)))
    left, chosen = cap, []
    rng = random.Random(seed)
    for n, c in enumerate(classes):
        share = left // (len(classes) - n)
        take = min(share, len(by[c]))
        chosen += rng.sample(by[c], take)
        left -= take
    return [items[i] for i in sorted(chosen)]


def trim(text, limit=1500):
    """The first ``limit`` characters, cut back to the last space and marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if " " in cut[limit // 2:]:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip() + " …"
