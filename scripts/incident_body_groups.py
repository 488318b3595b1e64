"""List candidate incident groups by place names in the message *body* (the fourth labelling pass).

Every earlier label came from groups sharing a place name in the *subject*
(``scripts/incident_pairs.py``). This lists groups of the 2019–2020 board messages that are in no
subject group at all (so in neither split of ``data/incidents``) and are no near copy of one
(same subject, a subject or a body opening of one inside the text, or 3-shingle Jaccard ≥ 0.5 with
the text of one), grouped by the place names of their body (``hotspots.phrases.place_candidates``,
4+ characters; 3–14 messages from 2+ writers; groups with the same members kept once, under the
longest name). No matcher code is used. The labeller reads the printed subjects, writers, dates and
the body around the place name and writes ``body NAME | ... | ... | members: ...`` lines into
``data/incidents/labels.txt`` (rules in ``data/incidents/README.md``).

Run: python scripts/incident_body_groups.py > /tmp/body_groups.txt
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from incident_pairs import groups_all, labelled_ids, load_messages, place_groups  # noqa: E402

from haoban.hotspots.neardup import jaccard, shingle_hashes  # noqa: E402

NEAR_COPY = 0.5


def _squash(s: str) -> str:
    return "".join(s.split())


def body_groups() -> tuple[dict[str, dict[str, str]], list[tuple[str, list[str]]]]:
    msgs = load_messages()
    taken = {k for _, ks in groups_all(msgs) for k in ks}
    taken |= labelled_ids()
    ref = [msgs[k] for k in taken if k in msgs]
    subjects = {_squash(r["subject"]) for r in ref if len(_squash(r["subject"])) >= 6}
    openings = {_squash(r["detail"])[:30] for r in ref if len(_squash(r["detail"])) >= 30}

    def copies_text(m: dict[str, str]) -> bool:
        flat = _squash(f"{m['subject']}。{m['detail']}")
        return (
            _squash(m["subject"]) in subjects
            or any(s in flat[: len(s) + 40] for s in subjects)
            or any(o in flat for o in openings)
        )

    pool = {
        k: m
        for k, m in msgs.items()
        if m["time"][:4] in ("2019", "2020") and k not in taken and not copies_text(m)
    }

    # Shingle near copies are checked only for group members (the full pool × reference is slow).
    refsh = [shingle_hashes(f"{r['subject']}。{r['detail']}") for r in ref]
    members = {k for _, ks in place_groups(pool, "detail") for k in ks}
    for k in members:
        h = shingle_hashes(f"{pool[k]['subject']}。{pool[k]['detail']}")
        if any(jaccard(h, r) >= NEAR_COPY for r in refsh):
            del pool[k]
    return msgs, place_groups(pool, "detail")


def main() -> None:
    msgs, groups = body_groups()
    print(f"{len(groups)} body groups")
    for c, ks in groups:
        print(f"\n== body {c} ({len(ks)})")
        for k in sorted(ks, key=lambda k: msgs[k]["time"]):
            m = msgs[k]
            det = _squash(m["detail"])
            p = det.find(c)
            around = det[max(0, p - 30) : p + 60]
            print(f"  {k.split(':')[1]} {m['time'][:10]} {m['user']} | {m['subject']} | …{around}…")


if __name__ == "__main__":
    main()
