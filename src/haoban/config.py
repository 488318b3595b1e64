"""Settings from environment variables (prefix ``HAOBAN_``), with defaults that run a demo city locally."""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import time
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The city's time zone: calendars, local days and times shown to people. Storage is always UTC.
DEFAULT_TIMEZONE = "Asia/Shanghai"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAOBAN_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./haoban.db",
        description="SQLAlchemy URL; PostgreSQL: postgresql+psycopg://user@host/db",
    )
    # A streaming replica of the database: dashboards, analytics CSVs and exports read from it.
    read_replica_url: str | None = None
    # Signs the tokens. When not set, a key is generated once into ``<data_dir>/.secret_key`` (mode 0600)
    # and read from there after, so a restart does not log everyone out and every process agrees.
    secret_key: str = Field(default="", repr=False)
    # Encrypts ID numbers at rest (security/crypto.py; at least 32 characters). When not set, a key is
    # generated once into ``<data_dir>/.data_key`` (0600): keep that file (or set this) with the backups,
    # since without the key the stored ID numbers cannot be read. Several machines must share one key.
    data_key: str = Field(default="", repr=False)
    token_minutes: int = 12 * 60
    demo: bool = False
    data_dir: Path = PROJECT_ROOT / "data"
    timezone: str = Field(default=DEFAULT_TIMEZONE, description="IANA zone of the city, e.g. Asia/Shanghai")
    office_hours: str = "09:00-12:00,13:00-17:00"
    # Share of a deadline's time used before an order turns yellow (预警).
    warning_ratio: float = 0.8
    sweep_seconds: float = 30.0
    outbox_seconds: float = 5.0
    # Proxies whose X-Forwarded-For is believed (comma-separated addresses or networks, e.g.
    # "10.0.0.5,10.1.0.0/16"). Default none: the address counted is the peer's, whatever a client sends.
    trusted_proxies: str = ""
    # Citizen tracking: requests per minute per client address.
    track_rate_per_minute: int = 20
    # Open311 GeoReport v2 (anonymous reads and client apps' posts): requests per minute per address.
    open311_rate_per_minute: int = 120
    # Intake batching: the writer commits up to this many creates together.
    intake_batch_max: int = 256
    # ... and waits up to this many milliseconds for as many creates as its last batch had (0: never).
    intake_gather_ms: float = Field(default=2.0, ge=0.0, le=50.0)
    # Near-duplicate orders (并单 candidates): Jaccard of character 3-shingles, and how far apart in time.
    duplicate_threshold: float = Field(default=0.5, gt=0.0, le=1.0)
    duplicate_window_days: int = Field(default=30, ge=1)
    # A 差评 rating opens a rectification (整改) due this many working days later.
    rectification_working_days: int = Field(default=5, ge=1, le=60)
    # AI游衡阳 (tourism): the e-ticket signing key (base64 of a 32-byte Ed25519 seed; default: derived
    # from secret_key) and the payer that charges ticket orders ("record" only records, for demos).
    tourism_ticket_key: str | None = None
    tourism_payer: str = "record"
    # Where visitors' complaints about scenic spots and venues go (the city's culture and tourism bureau,
    # 文旅); complaints about hotels, food and products go to the place's district government.
    tourism_department: str = "wlj"
    # The map's tile source (a Leaflet URL template such as https://tile.example/{z}/{x}/{y}.png) and its
    # attribution. Empty: no tiles, the map draws places on a plain background and works offline.
    map_tiles: str = ""
    map_attribution: str = ""
    # What {s} in the tile template takes, in turn (天地图: "01234567"; most servers: "abc").
    map_subdomains: str = "abc"
    # Spoken guides: the espeak-ng voice (cmn = Mandarin), where generated audio is kept (a shared volume
    # when several machines run jobs), and how often the job speaks guides not cached yet.
    tourism_voice: str = "cmn"
    # Read-aloud audio (issue 18): Chinese pages in tourism_voice, English ones in this voice.
    speech_voice_en: str = "en"
    media_dir: Path = Path("media")
    tourism_guides_seconds: float = Field(default=300.0, gt=0)
    # Machine-learning dispatch: "auto" loads the shipped model (training it if missing), "off" routes
    # with catalogue rules only, anything else is a path to a model file.
    dispatch_model: str = "auto"
    sql_echo: bool = False
    # Background jobs (haoban.jobs): "auto" runs them on procrastinate with PostgreSQL and in-process
    # with SQLite; "inprocess" forces the latter. Extra modules whose @job functions register too.
    job_runner: str = Field(default="auto", pattern="^(auto|procrastinate|inprocess)$")
    job_modules: str = Field(default="", description="comma-separated modules that register jobs")
    # A procrastinate worker beats every job_heartbeat_seconds; one silent for job_stalled_seconds is
    # taken for dead and its running jobs are queued again.
    job_heartbeat_seconds: float = Field(default=10.0, gt=0)
    job_stalled_seconds: float = Field(default=30.0, gt=0)
    # The outbox's sender ("record" keeps what would be sent in delivered_messages).
    outbox_sender: str = "record"
    # /metrics answers a bearer token equal to this (a Prometheus scraper's), or an admin's token.
    metrics_token: str | None = None
    # Logs: one JSON object per line (json) or plain text.
    log_format: str = Field(default="json", pattern="^(json|text)$")
    # 免申即享: how often the worker runs the matching job (incremental; a new period is matched in full)
    # and pays what citizens confirmed, and through which payer ("table" records payouts in a table).
    benefits_match_seconds: float = Field(default=3600.0, gt=0)
    benefits_pay_seconds: float = Field(default=300.0, gt=0)
    benefits_payer: str = "table"
    # Federation (跨省通办, 12345 transfers between cities): this instance's region code (行政区划代码)
    # and name, where its Ed25519 private key is kept (default <data_dir>/federation_ed25519.key; create
    # it with `haoban federation keygen`), how far a message's timestamp may be from this clock, how
    # often the outbox is delivered, and the retry back-off (base × 2^n seconds, capped).
    federation_region: str = Field(default="430400", pattern=r"^\d{6,12}$")
    federation_name: str = "衡阳市"
    federation_key_file: Path | None = None
    federation_skew_seconds: int = Field(default=300, ge=5, le=3600)
    federation_seconds: float = Field(default=10.0, gt=0)
    federation_backoff_seconds: float = Field(default=5.0, gt=0)
    federation_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    federation_timeout_seconds: float = Field(default=10.0, gt=0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ValueError, KeyError):
            raise ValueError(f"unknown time zone {v!r}; use an IANA name such as Asia/Shanghai") from None
        return v

    @model_validator(mode="after")
    def _persisted_secret(self) -> Settings:
        if not self.secret_key:
            self.secret_key = persisted_secret(self.data_dir / SECRET_FILE)
        if not self.data_key:
            self.data_key = persisted_secret(self.data_dir / DATA_KEY_FILE, strict=True)
        elif len(self.data_key) < 32:
            raise ValueError(
                "HAOBAN_DATA_KEY must be at least 32 characters "
                '(e.g. python -c "import secrets; print(secrets.token_urlsafe(32))")'
            )
        return self

    @property
    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        parts = [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]
        return tuple(ipaddress.ip_network(p, strict=False) for p in parts)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: str) -> str:
        for part in v.split(","):
            if part.strip():
                try:
                    ipaddress.ip_network(part.strip(), strict=False)
                except ValueError:
                    raise ValueError(f"not an address or network: {part.strip()!r}") from None
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


SECRET_FILE = ".secret_key"
DATA_KEY_FILE = ".data_key"


def persisted_secret(path: Path, *, strict: bool = False) -> str:
    """The key in ``path``, created (exclusively, mode 0600) when missing; a per-process key if the
    directory cannot be written, with a warning, since tokens then die with the process (``strict``:
    an error instead, for a key whose loss loses data)."""
    for _ in range(3):
        try:
            value = path.read_text(encoding="ascii").strip()
            if value:
                return value
        except FileNotFoundError:
            pass
        except OSError as exc:
            if strict:
                raise RuntimeError(f"cannot read {path} ({exc}); set the key in the environment") from exc
            log.warning("cannot read %s (%s): tokens will not survive a restart", path, exc)
            return secrets.token_urlsafe(48)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            time.sleep(0.05)  # another process is writing it: read it next time round
            continue
        except OSError as exc:
            if strict:
                raise RuntimeError(f"cannot create {path} ({exc}); set the key in the environment") from exc
            log.warning("cannot create %s (%s): tokens will not survive a restart", path, exc)
            return secrets.token_urlsafe(48)
        value = secrets.token_urlsafe(48)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(value + "\n")
        return value
    raise RuntimeError(f"{path} exists but stays empty; remove it or set HAOBAN_SECRET_KEY")


@lru_cache
def get_settings() -> Settings:
    return Settings()


def city_tz() -> ZoneInfo:
    """The configured city time zone, for code that has no ``Runtime`` at hand."""
    return get_settings().tz
