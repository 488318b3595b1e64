"""Spoken guides made offline: each place's guide text read aloud by Debian's espeak-ng (Mandarin voice)
on the server, cached as a WAV file named by the hash of (voice, text), served as a file.

The database is the source of truth (the places' guide texts); the audio files are a cache that the
``tourism.guides`` job fills (``tourism/jobs.py``, on the job runner's timer, or at once with
``haoban tourism guides``). A changed text has a new hash, so a stale file is never served; nothing
needs the network. Files live under ``Settings.media_dir / "guides"`` — with several machines, point
``HAOBAN_MEDIA_DIR`` at a shared volume.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.config import Settings
from haoban.tourism.models import Place

ESPEAK = "espeak-ng"
_HASH = re.compile(r"^[0-9a-f]{64}$")
# espeak-ng reads Chinese digits and punctuation well; a very long text is cut at a sentence end.
MAX_CHARS = 1500


def guides_dir(settings: Settings) -> Path:
    return Path(settings.media_dir) / "guides"


def audio_key(text: str, *, voice: str) -> str:
    """The cache key of ``text`` spoken by ``voice``: a change of either makes a new file."""
    return hashlib.sha256(f"{voice}\x00{text.strip()}".encode()).hexdigest()


def audio_path(settings: Settings, key: str) -> Path | None:
    """The file for ``key`` when it exists (``key`` must be a bare hash: nothing else is served)."""
    if not _HASH.match(key):
        return None
    path = guides_dir(settings) / f"{key}.wav"
    return path if path.is_file() else None


def audio_url(settings: Settings, text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    key = audio_key(text, voice=settings.tourism_voice)
    return f"/tour/audio/{key}.wav" if audio_path(settings, key) else None


def espeak_available() -> bool:
    return shutil.which(ESPEAK) is not None


def speak(text: str, *, voice: str, out: Path) -> int:
    """Write ``text`` spoken by espeak-ng to ``out`` (WAV) atomically; returns the file's size."""
    text = text.strip()[:MAX_CHARS]
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".part")
    os.close(fd)
    try:
        # The text goes in on stdin: never on the command line (no option injection, no length limit).
        subprocess.run(
            [ESPEAK, "-v", voice, "-s", "150", "-w", tmp, "--stdin"],
            input=text.encode("utf-8"),
            check=True,
            capture_output=True,
            timeout=120,
        )
        size = Path(tmp).stat().st_size
        if size <= 44:  # a WAV header and no sound
            raise RuntimeError(f"espeak-ng produced no audio for voice {voice!r}")
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a static file server may serve the cache
        os.replace(tmp, out)  # readers see the whole file or none
        return size
    finally:
        Path(tmp).unlink(missing_ok=True)


@dataclass
class GuideRun:
    made: int = 0
    cached: int = 0
    failed: int = 0
    bytes: int = 0


def make_missing(session: Session, settings: Settings, *, limit: int = 200) -> GuideRun:
    """Speak every active place's guide (zh) whose audio is not cached yet; at most ``limit`` per run."""
    run = GuideRun()
    voice = settings.tourism_voice
    texts = session.scalars(select(Place.guide).where(Place.active.is_(True), Place.guide.is_not(None))).all()
    for text in texts:
        if not text or not text.strip():
            continue
        key = audio_key(text, voice=voice)
        if audio_path(settings, key) is not None:
            run.cached += 1
            continue
        if run.made >= limit:
            break
        try:
            run.bytes += speak(text, voice=voice, out=guides_dir(settings) / f"{key}.wav")
            run.made += 1
        except (OSError, subprocess.SubprocessError, RuntimeError):
            run.failed += 1
            raise
    return run
