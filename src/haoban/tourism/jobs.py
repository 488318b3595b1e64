"""AI游衡阳's background job: speak the places' guides (espeak-ng) into the audio cache, on the runner."""

from __future__ import annotations

from dataclasses import asdict

from haoban.jobs import JobContext, job
from haoban.tourism.guides import espeak_available, make_missing


@job("tourism.guides", every="tourism_guides_seconds", lock="tourism.guides", max_attempts=3)
def speak_guides(ctx: JobContext) -> dict[str, int]:
    """Make the audio of every guide not cached yet (a changed text has a new hash: made again)."""
    if not espeak_available():
        return {"made": 0, "cached": 0, "failed": 0, "bytes": 0, "espeak_missing": 1}
    with ctx.rt.db.read() as session:
        return asdict(make_missing(session, ctx.rt.settings))
