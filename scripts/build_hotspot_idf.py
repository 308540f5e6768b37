"""Rebuild src/xinfang/data/hotspots/idf.tsv: document frequencies of words in the tokenised training file.

Exact command (from the repository root; a few seconds):
    .venv/bin/python scripts/build_hotspot_idf.py [--shared ../shared/data] [--min-df 20]

Why: hot-matter clustering weights words by inverse document frequency, and a new record must be scored against
existing matters without re-reading the history (incremental assignment). A fixed IDF table from a general corpus of
8,128 citizen messages gives every process the same weights. Only word counts are written (words seen in at least
`min-df` messages), never message text; the training file's tokens are jieba's, as our rjieba cut produces.
Only common words are listed (min-df 20, about 5,500 words): their weight is what needs the corpus. Every rarer
word gets the weight of an unseen one, which is what clustering wants of rare words (estate and company names).
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--min-df", type=int, default=20)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "src" / "xinfang" / "data" / "hotspots" / "idf.tsv"
    )
    args = parser.parse_args()
    df: Counter[str] = Counter()
    docs = 0
    with (args.shared / "teddy2020c" / "messages_tokenized_train.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            docs += 1
            df.update(set(row["tokens"].split()))
    kept = sorted((t, n) for t, n in df.items() if n >= args.min_df and "\t" not in t)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="\n") as out:
        out.write(f"#docs\t{docs}\n")
        for term, n in kept:
            out.write(f"{term}\t{n}\n")
    print(f"{docs} documents, {len(kept)} terms with df >= {args.min_df} -> {args.out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
