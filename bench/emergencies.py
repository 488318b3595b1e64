"""Emergency detection (紧急警情) on data/emergencies/labelled.csv: recall first.

    .venv/bin/python bench/emergencies.py            # both splits, misses and false banners listed
    .venv/bin/python bench/emergencies.py --write    # also into bench/RESULTS.md

How the set is made: data/emergencies/README.md.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from benchutil import write_section  # noqa: E402

from haoban.dispatch.emergency import detect  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    rows = list(csv.DictReader((ROOT / "data" / "emergencies" / "labelled.csv").open(encoding="utf-8")))
    lines = ["## Emergency detection (bench/emergencies.py)", ""]
    for split in ("dev", "heldout"):
        part = [r for r in rows if r["split"] == split]
        pos = [r for r in part if r["kind"] != "none"]
        neg = [r for r in part if r["kind"] == "none"]
        hits = [r for r in pos if detect(r["text"])]
        right_kind = [r for r in pos if (e := detect(r["text"])) and r["kind"] in e.kinds]
        false = [r for r in neg if detect(r["text"])]
        lines.append(
            f"- {split}: recall **{len(hits)}/{len(pos)}** (right kind {len(right_kind)}/{len(pos)}), "
            f"false banners **{len(false)}/{len(neg)}** "
            f"({sum(1 for r in false if r['source'] == 'tipdm2020')} of them on real board messages)"
        )
        for r in pos:
            if not detect(r["text"]):
                lines.append(f"  - missed ({r['kind']}): {r['text'][:60]}")
        for r in false:
            e = detect(r["text"])
            why = f"{','.join(e.kinds)}: {e.evidence}" if e else ""
            lines.append(f"  - false banner ({why}): {r['text'][:60]}")
    body = "\n".join(lines)
    print(body)
    if args.write:
        write_section("emergencies", body)


if __name__ == "__main__":
    main()
