"""Build data/emergencies/labelled.csv: hand-written calls plus real messages that are not emergencies.

- ``handwritten.csv``: emergency calls per kind and tricky ordinary complaints (火车站, 天气, 燃气费,
  火灾隐患 …), written by hand before the rules were (public data has no emergencies: a message
  board is not where people report a fire), each marked ``dev`` or ``heldout``.
- 400 real TipDM board messages (seeded sample, subject + first 200 characters) that contain a
  character an emergency rule could trip on (火 气 电 打 困 水 撞 刀 晕 跳 爆 炸), labelled ``none``;
  ``overrides.csv`` relabels the few that do describe danger happening now (checked by hand when
  a rule flagged them). Split by sha1 of the text.

Run: python scripts/emergency_set.py
"""

from __future__ import annotations

import csv
import hashlib
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from incident_pairs import load_messages  # noqa: E402

OUT = ROOT / "data" / "emergencies"
CHARS = set("火气电打困水撞刀晕跳爆炸")


def main() -> None:
    rows = list(csv.DictReader((OUT / "handwritten.csv").open(encoding="utf-8")))
    for r in rows:
        r["source"] = "handwritten"
    overrides = {}
    if (OUT / "overrides.csv").exists():
        overrides = {
            r["text"]: r["kind"] for r in csv.DictReader((OUT / "overrides.csv").open(encoding="utf-8"))
        }
    msgs = sorted(load_messages().values(), key=lambda m: m["id"])
    pool = []
    for m in msgs:
        text = f"{m['subject']}。{m['detail'][:200]}".replace("\n", " ")
        if CHARS & set(text):
            pool.append(text)
    for text in random.Random(12345).sample(pool, 400):
        split = "heldout" if int(hashlib.sha1(text.encode()).hexdigest(), 16) % 2 else "dev"
        rows.append(
            {"split": split, "kind": overrides.get(text, "none"), "text": text, "source": "tipdm2020"}
        )
    with (OUT / "labelled.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["split", "kind", "source", "text"])
        w.writeheader()
        w.writerows(rows)
    print(len(rows), "rows")


if __name__ == "__main__":
    main()
