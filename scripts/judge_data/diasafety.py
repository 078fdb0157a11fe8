"""Usage: python scripts/judge_data/diasafety.py GITDIR [OUTDIR]

DiaSafety (thu-coai/DiaSafety, Sun et al. 2022, "On the Safety of Conversational Models:
Taxonomy, Dataset, and Benchmark") -> judge-data replies. GITDIR = thu-coai/DiaSafety git dir.

Each DiaSafety row is a user utterance (``context``) and a chatbot's reply (``response``) that
people labelled Safe or Unsafe *in that context* for one of five categories. Every row becomes a
reply (prompt = the context; one group per context, so replies to the same utterance are split
together):
- label Unsafe in Offending User (the bot insults the user), Toxicity Agreement (the bot agrees
  with a toxic utterance) or Biased Opinion (the bot voices a prejudice) -> harmful, hazard S10
  (hate / harassment);
- label Unsafe in Risk Ignorance (the bot ignores a user's distress, e.g. "That's a great story"
  after a story of abuse) or Unauthorized Expertise (the bot gives a medical opinion) -> dropped:
  a poor or careless reply, not content of a taxonomy hazard (it neither encourages self-harm
  nor is dangerous specialised advice as a rule);
- label Safe, every category -> benign (hazard none): many are replies to toxic or distressed
  utterances, the look-alikes of the harmful ones.
Rows of train, val and test are pooled, de-duplicated on (context, reply), and sampled to at
most 4,000 (random.Random(0)), as equal a share per label as possible.
License: Apache-2.0 (LICENSE of the repository, which the README says holds the dataset).
"""

import json

from _common import clean, group_key, head, parse_args, sample_balanced, show_text, trim, write

NAME = "diasafety"
REPO = "thu-coai/DiaSafety"
PATHS = [f"DiaSafety_dataset/{s}.json" for s in ("train", "val", "test")]
HAZARD = {"Offending User": "S10", "Toxicity Agreement": "S10", "Biased Opinion": "S10",
          "Risk Ignorance": None, "Unauthorized Expertise": None}
CAP = 4000


def main():
    args = parse_args(__doc__)
    gitdir = args.gitdir
    dropped = {}
    seen, pool = set(), []
    for path in PATHS:
        for r in json.loads(show_text(gitdir, path)):
            context, reply = clean(r["context"]), clean(r["response"])
            if not context or not reply:
                dropped["empty context or reply"] = dropped.get("empty context or reply", 0) + 1
                continue
            key = (context.lower(), reply.lower())
            if key in seen:
                dropped["duplicate (context, reply)"] = \
                    dropped.get("duplicate (context, reply)", 0) + 1
                continue
            seen.add(key)
            assert r["label"] in ("Safe", "Unsafe") and r["category"] in HAZARD, r
            if r["label"] == "Unsafe" and HAZARD[r["category"]] is None:
                reason = f"Unsafe {r['category']} (not a taxonomy hazard)"
                dropped[reason] = dropped.get(reason, 0) + 1
                continue
            pool.append((context, reply, r["category"], r["label"] == "Unsafe"))
    kept = sample_balanced(pool, CAP, lambda p: p[3])
    if len(kept) < len(pool):
        dropped[f"cap_{CAP}_sample"] = len(pool) - len(kept)
    rows = [{"text": trim(reply), "harmful": unsafe,
             "hazard": HAZARD[cat] if unsafe else "none", "category": cat, "language": "en",
             "kind": "reply", "group": f"{NAME}:{group_key(context)}", "prompt": trim(context)}
            for context, reply, cat, unsafe in kept]
    write(args.outdir, NAME, rows, {
        "repository": REPO, "commit": head(gitdir), "paths": PATHS, "license": "Apache-2.0",
        "license_evidence": "LICENSE: 'Apache License Version 2.0, January 2004'; README.md: "
                            "'We have uploaded the our dataset in this repository.'",
        "label_mapping": "replies of chatbots to a user utterance (prompt), labelled Safe / "
                         "Unsafe by people in context: Unsafe in Offending User, Toxicity "
                         "Agreement, Biased Opinion -> harmful S10; Unsafe in Risk Ignorance, "
                         "Unauthorized Expertise -> dropped (careless replies, not a taxonomy "
                         "hazard); Safe (all categories) -> benign. "
                         "train+val+test pooled, duplicates of (context, reply) dropped, "
                         f"sampled to {CAP} balanced by label (random.Random(0)); group = "
                         "the context.",
        "dropped": dict(sorted(dropped.items())),
        "origin": "public", "prepare": "scripts/judge_data/diasafety.py", "use": "train",
        "note": "unsafety is contextual: the same short reply can be safe after one utterance "
                "and unsafe after another; the judge must read the prompt. Category names are "
                "DiaSafety's.",
    })


if __name__ == "__main__":
    main()
