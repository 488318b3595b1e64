"""The visitors' question box on its labelled question set: answer in the top 3, "I don't know" right.

    .venv/bin/python bench/tourism_qa.py [--no-write]

Builds a fresh SQLite city with the demo places, asks every question in
``src/haoban/tourism/questions.yaml`` and reports top-1 / top-3 hit rates for the answerable ones, the
share of unanswerable ones answered "I don't know", the misses, and the time per question.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from importlib import resources
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchutil import machine, write_section

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.config import Settings
from haoban.db import Database
from haoban.demo.seed import seed_directory
from haoban.tourism import qa
from haoban.tourism.tickets import seed_demo_places
from haoban.wiring import runtime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='haoban-qa-')) / 'qa.db'}"
    rt = runtime(Database(url), Settings(database_url=url, secret_key="bench-qa-0123456789abcdef0123456789"))
    rt.db.upgrade()
    seed_directory(rt)
    seed_demo_places(rt, actor=SYSTEM_ACTOR)
    items = yaml.safe_load(resources.files("haoban.tourism").joinpath("questions.yaml").read_text("utf-8"))
    questions = items["questions"]
    today = date(2026, 12, 1)
    top1 = top3 = answerable = unknown_ok = unanswerable = 0
    misses: list[str] = []
    times: list[float] = []
    with rt.db.read() as session:
        qa.ask(session, rt, question="预热", today=today)  # builds the index once
        for item in questions:
            t0 = time.perf_counter()
            got = qa.ask(session, rt, question=item["q"], today=today)
            times.append(time.perf_counter() - t0)
            ranked = [(a["place"], a["kind"]) for a in got["answers"]]
            if item["expect"] is None:
                unanswerable += 1
                if not got["known"]:
                    unknown_ok += 1
                else:
                    misses.append(f"{item['q']} → answered {ranked[:1]} (should say I don't know)")
                continue
            answerable += 1
            want = tuple(item["expect"])
            top1 += ranked[:1] == [want]
            if want in ranked[:3]:
                top3 += 1
            else:
                misses.append(f"{item['q']} → {ranked[:3] or 'I dont know'} (want {want})")
    times.sort()
    body = "\n".join(
        [
            "## Question box (AI游衡阳): labelled questions",
            "",
            f"Command: `.venv/bin/python bench/tourism_qa.py` · {machine()}",
            "",
            f"- answerable: {answerable}; answer in the top 3: "
            f"**{top3}/{answerable} = {top3 / answerable:.1%}**; "
            f"top 1: {top1}/{answerable} = {top1 / answerable:.1%}",
            f'- unanswerable: {unanswerable}; "I don\'t know" (+ 12345): {unknown_ok}/{unanswerable}',
            f"- threshold: best BM25 score ≥ {qa.MIN_SCORE}; time per question p50 "
            f"{times[len(times) // 2] * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms",
            "- misses: " + ("; ".join(misses) if misses else "none"),
        ]
    )
    print(body)
    if not args.no_write:
        write_section("tourism_qa", body)


if __name__ == "__main__":
    main()
