"""Draw the sample of hot-matter clusters used to check purity by hand on the shared hot-issue file.

Exact command (from the repository root):
    .venv/bin/python scripts/hotspots_purity_sample.py [--file ../shared/data/teddy2020c/messages_hot_4311.xlsx]
        [--seed 5] [--show-titles]

Clusters the file exactly as `xinfang hotspots FILE` does, then takes the 10 largest clusters plus 10 drawn at random
(seed 5) from the other clusters with at least 3 messages. Without --show-titles it prints only counts (safe for logs
and reports); with --show-titles it prints each sampled cluster's titles to the terminal, for a person to judge which
members belong to the cluster's majority matter. Never redirect that output into the repository: the messages are
personal data.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from xinfang.hotspots.engine import cluster
from xinfang.hotspots.files import read_records

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--file", type=Path, default=ROOT.parent / "shared/data/teddy2020c/messages_hot_4311.xlsx"
    )
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--show-titles", action="store_true")
    args = parser.parse_args()
    records = read_records(args.file)
    index = cluster(records)
    by_id = {r.id: r for r in records}
    ranked = sorted(index.matters, key=lambda m: -m.size)
    rest = [m for m in ranked[10:] if m.size >= 3]
    sample = ranked[:10] + random.Random(args.seed).sample(rest, min(10, len(rest)))
    sizes = [m.size for m in ranked]
    print(
        f"messages {len(records)}, clusters {len(ranked)}, singletons {sizes.count(1)}, size>=3: {len(rest) + 10}"
    )
    for k, matter in enumerate(sample):
        print(f"#{k} size {matter.size}")
        if args.show_titles:
            for mid in matter.member_ids:
                print("    " + by_id[mid].title[:60])


if __name__ == "__main__":
    main()
