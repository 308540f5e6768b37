"""Rebuild the default category model in src/xinfang/data/models/category from ../shared/data.

Usage (from the repository root):
    .venv/bin/python scripts/train_default_model.py [--shared ../shared/data] [--out
    src/xinfang/data/models/category]

What it does: (1) trains on the held-out protocol's training part and measures macro-F1 on the tokenised
and raw
test parts (see xinfang.routing.training.holdout_split); (2) retrains on all labelled data (deduplicated) and
saves the model with those held-out figures in model.json. Prints figures only, never message text.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from xinfang.routing.dataset import read_labelled
from xinfang.routing.training import evaluate_docs, holdout_split, train

ROOT = Path(__file__).resolve().parents[1]
TOKENISED = "teddy2020c/messages_tokenized_train.csv"
RAW = "teddy2020c/messages_raw_labeled.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "src" / "xinfang" / "data" / "models" / "category")
    parser.add_argument("--params", default="{}", help="JSON of CategoryModel parameters")
    parser.add_argument("--skip-holdout", action="store_true")
    args = parser.parse_args()
    params = json.loads(args.params)
    tokenised, raw = read_labelled(args.shared / TOKENISED), read_labelled(args.shared / RAW)
    metrics: dict[str, object] = {}
    if not args.skip_holdout:
        split = holdout_split(tokenised, raw)
        started = time.perf_counter()
        model, _ = train(docs=split["train"], params=params)
        for name in ("test_tokenised", "test_raw"):
            m = evaluate_docs(model, split[name])
            metrics[name] = m
            print(f"{name}: n={m['n']} accuracy={m['accuracy']} macro_f1={m['macro_f1']}")
        metrics["protocol"] = (
            "holdout_split(seed=20200101, test_size=0.2): tokenised file deduplicated and split stratified; raw rows "
            "matched to their tokenised twin (token Jaccard) stay on the same side"
        )
        metrics["n_train"] = len(split["train"])
        print(f"held-out fit took {time.perf_counter() - started:.1f}s")
    model, description = train([args.shared / TOKENISED, args.shared / RAW], params=params)
    description["source"] = "Teddy Cup 2020 problem C (TipDM), public petition-platform messages"
    model.save(args.out, metadata={"training_data": description, "metrics": metrics})
    size = sum(p.stat().st_size for p in args.out.iterdir())
    print(f"saved {args.out} ({size / 1e6:.1f} MB), version {model.version()}")


if __name__ == "__main__":
    main()
