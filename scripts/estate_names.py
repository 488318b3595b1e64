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

import csv
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from incident_pairs import load_messages  # noqa: E402

from haoban.hotspots.incidents import Matcher  # noqa: E402
from haoban.hotspots.places import _normalise, place_spans  # noqa: E402

OUT = ROOT / "src" / "haoban" / "wordlists" / "estate_names.txt"
MIN_LEN, MAX_LEN = 4, 8
MIN_WRITERS = 2
_COMPLAINT = re.compile(
    "尽快|领导|非法|违法|违规|关注|要求|请求|希望|建议|解决|问题|投诉|反映|咨询|关于|请问|何时|政府|部门|开发商"
)


def learn(
    subjects: list[tuple[str, str]], problems: re.Pattern[str], blanks: tuple[str, ...]
) -> dict[str, int]:
    """{name: writers} from (writer, subject) pairs."""
    norms = [(w, _normalise(s, blanks)) for w, s in subjects]
    cands: set[str] = set()
    for _, norm in norms:
        for start, suf, end, _cls in place_spans(norm):
            if norm[suf:end] not in ("小区", "社区"):
                continue
            for cut in range(suf - MIN_LEN, max(start, suf - MAX_LEN) - 1, -1):
                name = norm[cut:suf]
                if name[0].isdigit() or problems.search(name) or _COMPLAINT.search(name):
                    continue
                cands.add(name)
    writers: dict[str, set[str]] = defaultdict(set)
    for w, norm in norms:
        for i in range(len(norm)):
            for n in range(MIN_LEN, MAX_LEN + 1):
                if norm[i : i + n] in cands:
                    writers[norm[i : i + n]].add(w)
    return {n: len(ws) for n, ws in writers.items() if len(ws) >= MIN_WRITERS}


def main() -> None:
    labelled = {
        r["id"] for r in csv.DictReader((ROOT / "data" / "incidents" / "messages.csv").open(encoding="utf-8"))
    }
    msgs = [m for k, m in load_messages().items() if k not in labelled and m["time"][:4] in ("2019", "2020")]
    matcher = Matcher(estate_names=())
    problems = re.compile("|".join(map(re.escape, sorted(matcher.problem_terms, key=len, reverse=True))))
    names = learn([(m["user"], m["subject"]) for m in msgs], problems, matcher._blanks)
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
