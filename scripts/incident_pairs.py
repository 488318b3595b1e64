"""Build the labelled incident pairs (data/incidents/pairs.csv) from hand labels over TipDM messages.

How the set is made (see data/incidents/README.md):
1. All 2019–2020 board messages of ``data/tipdm2020`` (with votes, with replies, unlabelled) are
   grouped by the place names in their subject (``hotspots.phrases.place_candidates``, 4+ characters,
   3–14 messages, 2+ writers) — a net that is independent of the matcher under test.
2. A person read each group and wrote ``data/incidents/labels.txt``: which messages report one
   incident (same place, same problem), and which are too vague to call (excluded).
3. Pairs: same incident → positive; two messages of one reviewed group that are not one incident →
   hard negative ``same_place`` (they share a place name but not the problem, or it is another
   branch of a chain); two incidents of the same problem kind in different groups → hard negative
   ``same_problem``.
4. Split by connected group (groups sharing a message stay together): sha1(first group name) % 3 == 0
   → ``heldout`` (never used for tuning), else ``dev``.

Run: python scripts/incident_pairs.py  (writes data/incidents/pairs.csv and messages.csv)
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from haoban.hotspots.phrases import place_candidates  # noqa: E402

DATA = ROOT / "data" / "tipdm2020"
OUT = ROOT / "data" / "incidents"
FILES = {
    "votes": "messages_with_votes.csv",
    "unlabelled": "messages_unlabelled.csv",
    "replies": "messages_with_replies.csv",
}


def parse_time(s: str) -> datetime:
    s = s.strip().replace("-", "/")
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d"):
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            continue
    raise ValueError(s)


def load_messages() -> dict[str, dict[str, str]]:
    msgs: dict[str, dict[str, str]] = {}
    seen: set[tuple[str, str]] = set()
    for src, name in FILES.items():
        with (DATA / name).open(encoding="utf-8-sig", newline="") as fh:
            for r in csv.DictReader(fh):
                key = (r["留言主题"].strip(), r["留言详情"].strip()[:80])
                if key in seen:
                    continue
                seen.add(key)
                msgs[f"{src}:{r['留言编号'].strip()}"] = {
                    "id": f"{src}:{r['留言编号'].strip()}",
                    "user": r["留言用户"].strip(),
                    "time": parse_time(r["留言时间"]).isoformat(),
                    "subject": r["留言主题"].strip(),
                    "detail": r["留言详情"].strip(),
                }
    return msgs


def main() -> None:
    msgs = load_messages()
    # Group numbers in labels.txt index the list of all groups (before the 2019 filter), as printed
    # when labelling; rebuild it the same way.
    allg = groups_all(msgs)
    by_num = {k.split(":")[1]: k for k, m in msgs.items() if m["time"][:4] in ("2019", "2020")}
    body_groups: dict[str, str] = {}  # "body NAME" -> NAME
    incidents: list[tuple[int | str, str, list[str]]] = []  # (group, kind, message keys)
    reviewed: dict[int | str, list[str]] = {}
    excluded: set[str] = set()
    links: list[tuple[str, str]] = []
    for raw in (OUT / "labels.txt").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|")]
        if parts[0] == "link":
            links.append(tuple(parts[1].split()))  # type: ignore[arg-type]
            continue
        if parts[0].startswith("body "):
            # Fourth pass: a group by a place name in the message *body* (scripts/incident_body_groups.py),
            # its reviewed members listed on the line (message numbers are unique in 2019-2020).
            g = parts[0]
            members = [by_num[i] for i in parts[3].removeprefix("members:").split()]
            body_groups[g] = g.removeprefix("body ")
        else:
            g = int(parts[0])
            name, members = allg[g]
            members = [k for k in members if msgs[k]["time"][:4] in ("2019", "2020")]
        num = {k.split(":")[1]: k for k in members}
        reviewed[g] = members
        if parts[1] != "-":
            for chunk in parts[1].split(";"):
                kind, ids = chunk.split(":")
                incidents.append((g, kind.strip(), [num[i] for i in ids.split()]))
        if parts[2] != "-":
            excluded |= {num[i] for i in parts[2].split()}
    # Union-find over messages: one incident per component of (incident lists, links).
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    kind_of: dict[str, str] = {}
    for _, kind, ks in incidents:
        for k in ks:
            kind_of[k] = kind
            union(ks[0], k)
    allkeys = {k for ks in reviewed.values() for k in ks}
    for a, b in links:
        ka = next(k for k in allkeys if k.endswith(":" + a))
        kb = next(k for k in allkeys if k.endswith(":" + b))
        union(ka, kb)
    # Split: groups connected by shared messages stay together.
    gparent: dict[int | str, int | str] = {g: g for g in reviewed}

    def gfind(x: int | str) -> int | str:
        while gparent[x] != x:
            x = gparent[x]
        return x

    owner: dict[str, int | str] = {}
    for g, ks in reviewed.items():
        for k in ks:
            if k in owner:
                # Body groups were drawn from messages outside every subject group: they may join each
                # other, never a subject group (that could move a held-out component).
                assert isinstance(g, str) == isinstance(owner[k], str), (g, owner[k], k)
                gparent[gfind(g)] = gfind(owner[k])
            owner[k] = g
    split_of: dict[int | str, str] = {}
    for g in reviewed:
        root = gfind(g)
        if isinstance(root, str):
            # Body groups go to dev by construction: they hold no message of a subject group nor a near
            # copy of one, so they cannot leak into or out of the held-out split, which stays as scored.
            split_of[g] = "dev"
            continue
        name = allg[root][0]
        split_of[g] = "heldout" if int(hashlib.sha1(name.encode()).hexdigest(), 16) % 3 == 0 else "dev"
    msg_split = {k: split_of[owner[k]] for k in owner}
    # The component (its root group's number) of each message: cross-validation folds keep one
    # component together, as the split does (bench/incidents.py cv).
    with (OUT / "components.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "component"])
        for k in sorted(owner):
            w.writerow([k, gfind(owner[k])])
    pairs: dict[tuple[str, str], dict[str, str]] = {}

    def add(a: str, b: str, label: int, kind: str) -> None:
        if a == b or a in excluded or b in excluded:
            return
        a, b = sorted((a, b))
        if (a, b) in pairs:
            return
        sa, sb = msg_split[a], msg_split[b]
        if sa != sb:
            return
        gap = (
            abs(
                (
                    datetime.fromisoformat(msgs[a]["time"]) - datetime.fromisoformat(msgs[b]["time"])
                ).total_seconds()
            )
            / 86400
        )
        pairs[(a, b)] = {
            "split": sa,
            "a": a,
            "b": b,
            "label": str(label),
            "type": kind,
            "gap_days": f"{gap:.2f}",
            "same_writer": str(int(msgs[a]["user"] == msgs[b]["user"])),
        }

    for ks in reviewed.values():
        for a, b in itertools.combinations(ks, 2):
            if a in kind_of and b in kind_of and find(a) == find(b):
                add(a, b, 1, "positive")
    for ks in reviewed.values():
        for a, b in itertools.combinations(ks, 2):
            if not (a in kind_of and b in kind_of and find(a) == find(b)):
                add(a, b, 0, "same_place")
    by_kind: dict[str, dict[str, list[str]]] = {}
    for k, kind in kind_of.items():
        by_kind.setdefault(kind, {}).setdefault(find(k), []).append(k)
    for comps in by_kind.values():
        for c1, c2 in itertools.combinations(sorted(comps.values()), 2):
            for a, b in itertools.product(c1, c2):
                add(a, b, 0, "same_problem")
    used = sorted({k for p in pairs for k in p})
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "messages.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["id", "user", "time", "subject", "detail"])
        w.writeheader()
        for k in used:
            w.writerow(msgs[k])
    with (OUT / "pairs.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["split", "a", "b", "label", "type", "gap_days", "same_writer"])
        w.writeheader()
        for p in sorted(pairs.values(), key=lambda p: (p["split"], p["a"], p["b"])):
            w.writerow(p)
    counts: dict[tuple[str, str], int] = {}
    for p in pairs.values():
        counts[(p["split"], p["type"])] = counts.get((p["split"], p["type"]), 0) + 1
    print(f"{len(used)} messages, {len(pairs)} pairs:", dict(sorted(counts.items())))


def place_groups(msgs: dict[str, dict[str, str]], field: str) -> list[tuple[str, list[str]]]:
    """Messages grouped by the place names (``place_candidates``, 4+ characters) in their *field*
    (``subject`` or ``detail``): groups of 3-14 messages from 2+ writers, largest first; a set of
    members found under several names is kept once, under the longest name. Shared by the subject
    groups (``groups_all``) and the body groups (``scripts/incident_body_groups.py``)."""
    by: dict[str, set[str]] = {}
    for k, m in msgs.items():
        for c in place_candidates(m[field]):
            if len(c) >= 4:
                by.setdefault(c, set()).add(k)
    out = [
        (c, sorted(ks))
        for c, ks in by.items()
        if 3 <= len(ks) <= 14 and len({msgs[k]["user"] for k in ks}) >= 2
    ]
    out.sort(key=lambda x: (-len(x[1]), x[0]))
    sets: dict[frozenset[str], str] = {}
    for c, ks in out:
        fk = frozenset(ks)
        if fk not in sets or len(c) > len(sets[fk]):
            sets[fk] = c
    return [(c, sorted(fk)) for fk, c in sets.items()]


def groups_all(msgs: dict[str, dict[str, str]]) -> list[tuple[str, list[str]]]:
    """The subject groups, numbered as in ``labels.txt`` (all years, before the 2019-2020 filter)."""
    return place_groups(msgs, "subject")


def labelled_ids() -> set[str]:
    """Every message of the labelled set (``data/incidents/messages.csv``, both splits)."""
    with (OUT / "messages.csv").open(encoding="utf-8") as fh:
        return {r["id"] for r in csv.DictReader(fh)}


if __name__ == "__main__":
    main()
