"""Learn bare estate names (wordlists/estate_names.txt) from the reports' subjects.

Callers name an estate with its suffix ("长房云时代小区") and without ("长房云时代配套幼儿园"); the place
extractor finds only the first. A name is learnt when it stands before 小区 or 社区 in some report's
subject and the name (with or without the suffix) recurs in the subjects of at least two writers:
estates that are the subject of complaints. Names with a problem term or a complaint word in them
(规划建设小区, 领导关注小区) are dropped.

Source: the 2019–2020 TipDM board messages (data/tipdm2020), **minus every message of the labelled
incident set** (data/incidents/messages.csv), so the learnt names owe nothing to the evaluation's
messages. A deployment runs the same over its own orders' subjects.

Run: python scripts/estate_names.py   (writes src/haoban/wordlists/estate_names.txt)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from incident_pairs import labelled_ids, load_messages  # noqa: E402

from haoban.hotspots.incidents import learn_estate_names  # noqa: E402

OUT = ROOT / "src" / "haoban" / "wordlists" / "estate_names.txt"


def main() -> None:
    labelled = labelled_ids()
    msgs = [m for k, m in load_messages().items() if k not in labelled and m["time"][:4] in ("2019", "2020")]
    names = learn_estate_names([(m["user"], m["subject"]) for m in msgs])
    lines = [
        "# Bare estate names (no 小区/社区 suffix) for incident matching: one a line, with the number of",
        "# writers whose subjects name it. Made by scripts/estate_names.py from the TipDM 2019-2020 board",
        "# subjects, minus the messages of the labelled incident set (data/incidents). Do not edit by hand.",
    ]
    lines += [f"{n} {c}" for n, c in sorted(names.items(), key=lambda x: (-x[1], x[0]))]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(names)} names from {len(msgs)} subjects -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
