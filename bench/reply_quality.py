"""Score every reply of messages_with_replies.csv (run by hand, not a test).

    .venv/bin/python bench/reply_quality.py              # distribution + 30 samples to read
    .venv/bin/python bench/reply_quality.py --write      # also (re)write the section in RESULTS.md

Data: TipDM 2020 challenge, problem C. The 30 samples (fixed seed) are printed in full so a person
can read each appeal and reply and judge the grade; that judgement lives in the hand-written notes
block of the RESULTS.md section, which ``--write`` preserves.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from haoban.feedback.reply_quality import score_reply  # noqa: E402
from hotspots import machine, parse_time, write_section  # noqa: E402

DATA = ROOT / "data" / "tipdm2020" / "messages_with_replies.csv"


def _time(value: str) -> datetime | None:
    try:
        return parse_time(value)
    except ValueError:
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--seed", type=int, default=2020)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    info = machine()
    print(info)

    with DATA.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    t = time.perf_counter()
    scores = [
        score_reply(
            appeal=f"{r['留言主题']}。{r['留言详情']}",
            reply=r["答复意见"],
            appeal_at=_time(r["留言时间"]),
            replied_at=_time(r["答复时间"]),
        )
        for r in rows
    ]
    elapsed = time.perf_counter() - t
    totals = [s.total for s in scores]
    deciles = Counter(min(int(v // 10), 9) for v in totals)
    grades = Counter(s.grade for s in scores)
    n = len(scores)
    print(f"{n} replies scored in {elapsed:.1f} s ({elapsed / n * 1000:.1f} ms each)")
    hist = [f"{10 * d}–{10 * d + 9 if d < 9 else 100}: {deciles.get(d, 0)}" for d in range(10)]
    print("deciles:", ", ".join(hist))
    print(
        "grades:", {g: f"{grades.get(g, 0)} ({grades.get(g, 0) / n:.0%})" for g in ("good", "fair", "poor")}
    )
    print(f"mean {statistics.mean(totals):.1f}, median {statistics.median(totals):.1f}")
    subs = {
        "relevance": statistics.mean(s.relevance for s in scores),
        "completeness": statistics.mean(s.completeness for s in scores),
        "tone": statistics.mean(s.tone for s in scores),
        "timeliness": statistics.mean(s.timeliness for s in scores if s.timeliness is not None),
    }
    print("mean sub-scores:", {k: round(v, 1) for k, v in subs.items()})

    rng = random.Random(args.seed)
    picked = sorted(rng.sample(range(n), args.samples))
    sample_lines = []
    for k, i in enumerate(picked, start=1):
        r, s = rows[i], scores[i]
        print(
            f"\n=== sample {k}: 留言编号 {r['留言编号']} — {s.grade} {s.total} "
            f"(rel {s.relevance}, comp {s.completeness}, time {s.timeliness}, tone {s.tone})"
        )
        print("主题:", r["留言主题"])
        print("详情:", r["留言详情"][:400].replace("\n", " "))
        print("答复:", r["答复意见"][:700].replace("\n", " "))
        for reason in s.reasons:
            print("  ·", reason)
        sample_lines.append(f"| {k} | {r['留言编号']} | {r['留言主题'][:28]} | {s.total} | {s.grade} |")

    if args.write:
        body = [
            "## Reply quality (`bench/reply_quality.py`)",
            "",
            f"Machine: {info}. Command: `.venv/bin/python bench/reply_quality.py --write`. "
            f"Run on {datetime.now():%Y-%m-%d}.",
            "",
            f"- {n:,} replies of messages_with_replies.csv scored in {elapsed:.1f} s "
            f"({elapsed / n * 1000:.1f} ms each, jieba start-up included)",
            f"- grades: good {grades.get('good', 0)} ({grades.get('good', 0) / n:.0%}), "
            f"fair {grades.get('fair', 0)} ({grades.get('fair', 0) / n:.0%}), "
            f"poor {grades.get('poor', 0)} ({grades.get('poor', 0) / n:.0%}); "
            f"mean {statistics.mean(totals):.1f}, median {statistics.median(totals):.1f}",
            f"- mean sub-scores: relevance {subs['relevance']:.1f}, completeness {subs['completeness']:.1f}, "
            f"tone {subs['tone']:.1f}, timeliness {subs['timeliness']:.1f}",
            "",
            "| total | " + " | ".join(f"{10 * d}–{10 * d + 9 if d < 9 else 100}" for d in range(10)) + " |",
            "|---|" + "---|" * 10,
            "| replies | " + " | ".join(str(deciles.get(d, 0)) for d in range(10)) + " |",
            "",
            f"Hand-checked sample: {args.samples} replies drawn with seed {args.seed} "
            "(run the command to print them in full).",
            "",
            "| # | 留言编号 | subject | total | grade |",
            "|---|---|---|---|---|",
            *sample_lines,
        ]
        write_section("reply_quality", "\n".join(body))
        print("wrote section 'reply_quality'")


if __name__ == "__main__":
    main()
