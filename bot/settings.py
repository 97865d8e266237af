"""Runtime settings: embedded defaults, overridable by environment variables.

Every path defaults to a folder inside the repository (``var/``) so that a fresh
clone runs with no external service; ``CITIZENBOT_*`` variables move them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from bot.province import parse_provinces

REPO_ROOT = Path(__file__).resolve().parent.parent

# The province's local time, for dates told to citizens (Vietnam keeps no daylight saving time).
LOCAL_TIME = timezone(timedelta(hours=7), "ICT")


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    value = env.get(name)
    return Path(value).expanduser().resolve() if value else default


def _datetime(env: Mapping[str, str], name: str) -> datetime | None:
    """An ISO 8601 time with its UTC offset, e.g. 2026-11-23T09:00:00+07:00."""
    value = env.get(name)
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{name}={value!r} needs a UTC offset, e.g. 2026-11-23T09:00:00+07:00")
    return moment


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    database_url: str
    model_dir: Path
    index_dir: Path
    shared_data_dir: Path
    curated_dir: Path
    calibration_file: Path
    ranker_file: Path
    helpdesk: str
    fee_policies_file: Path = REPO_ROOT / "knowledge" / "fee_policies.json"
    # Everyday names of procedures ({"<code>": ["tên gọi khác", ...]}), merged into their aliases at ingest.
    aliases_file: Path = REPO_ROOT / "knowledge" / "aliases.json"
    # Codes a portal FAQ question also concerns that the portal did not list ({"<faq_id>": ["<code>", ...]}).
    faq_codes_file: Path = REPO_ROOT / "knowledge" / "faq_codes.json"
    # General guidance (submitting online, by post) and the common cases the catalogue lacks: see bot.guidance.
    guidance_file: Path = REPO_ROOT / "knowledge" / "guidance.json"
    # The scale-out configuration: Redis shared by the workers (rate limits, published index version).
    redis_url: str | None = None
    redis_prefix: str = "citizenbot:"
    # How often each worker checks which index version is published (Redis key, else var/index/CURRENT).
    index_check_seconds: float = 2.0
    # Rate limits on the public routes, "requests/seconds" per client IP and per conversation.
    rate_limit_client: str = "600/60"
    rate_limit_conversation: str = "120/60"
    # The deployment's province and those merged into it (CITIZENBOT_PROVINCE, see bot.province); none: any.
    provinces: frozenset[str] = frozenset()
    # A fixed "now" (dossier deadlines, lockouts, fee validity) for demos and end-to-end tests.
    fixed_now: datetime | None = None

    def now(self) -> datetime:
        return self.fixed_now or datetime.now(UTC)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """From these environment variables (the process's own by default)."""
        var_dir = _path(env, "CITIZENBOT_VAR_DIR", REPO_ROOT / "var")
        return cls(
            var_dir=var_dir,
            database_url=env.get("CITIZENBOT_DATABASE_URL", f"sqlite:///{var_dir / 'citizenbot.db'}"),
            model_dir=_path(env, "CITIZENBOT_MODEL_DIR", var_dir / "models" / "multilingual-e5-small"),
            index_dir=_path(env, "CITIZENBOT_INDEX_DIR", var_dir / "index"),
            shared_data_dir=_path(env, "CITIZENBOT_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"),
            curated_dir=_path(env, "CITIZENBOT_CURATED_DIR", REPO_ROOT / "knowledge" / "procedures"),
            calibration_file=_path(env, "CITIZENBOT_CALIBRATION", REPO_ROOT / "knowledge" / "calibration.json"),
            ranker_file=_path(env, "CITIZENBOT_RANKER", REPO_ROOT / "knowledge" / "ranker.json"),
            fee_policies_file=_path(env, "CITIZENBOT_FEE_POLICIES", REPO_ROOT / "knowledge" / "fee_policies.json"),
            aliases_file=_path(env, "CITIZENBOT_ALIASES", REPO_ROOT / "knowledge" / "aliases.json"),
            faq_codes_file=_path(env, "CITIZENBOT_FAQ_CODES", REPO_ROOT / "knowledge" / "faq_codes.json"),
            guidance_file=_path(env, "CITIZENBOT_GUIDANCE", REPO_ROOT / "knowledge" / "guidance.json"),
            provinces=parse_provinces(env.get("CITIZENBOT_PROVINCE", "")),
            fixed_now=_datetime(env, "CITIZENBOT_NOW"),
            redis_url=env.get("CITIZENBOT_REDIS_URL") or None,
            redis_prefix=env.get("CITIZENBOT_REDIS_PREFIX", "citizenbot:"),
            index_check_seconds=float(env.get("CITIZENBOT_INDEX_CHECK_SECONDS", "2")),
            rate_limit_client=env.get("CITIZENBOT_RATE_LIMIT_CLIENT", "600/60"),
            rate_limit_conversation=env.get("CITIZENBOT_RATE_LIMIT_CONVERSATION", "120/60"),
            helpdesk=env.get(
                "CITIZENBOT_HELPDESK",
                "Bộ phận Một cửa của UBND xã, phường nơi bạn cư trú, "
                "hoặc tổng đài Cổng Dịch vụ công quốc gia 1800 1096 (miễn phí)",
            ),
        )
