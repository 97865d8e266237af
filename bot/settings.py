"""Runtime settings: embedded defaults, overridable by environment variables.

Every path defaults to a folder inside the repository (``var/``) so that a fresh
clone runs with no external service; ``CITIZENBOT_*`` variables move them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


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

    @classmethod
    def from_env(cls) -> Settings:
        var_dir = _path("CITIZENBOT_VAR_DIR", REPO_ROOT / "var")
        return cls(
            var_dir=var_dir,
            database_url=os.environ.get("CITIZENBOT_DATABASE_URL", f"sqlite:///{var_dir / 'citizenbot.db'}"),
            model_dir=_path("CITIZENBOT_MODEL_DIR", var_dir / "models" / "multilingual-e5-small"),
            index_dir=_path("CITIZENBOT_INDEX_DIR", var_dir / "index"),
            shared_data_dir=_path("CITIZENBOT_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"),
            curated_dir=_path("CITIZENBOT_CURATED_DIR", REPO_ROOT / "knowledge" / "procedures"),
            calibration_file=_path("CITIZENBOT_CALIBRATION", REPO_ROOT / "knowledge" / "calibration.json"),
            ranker_file=_path("CITIZENBOT_RANKER", REPO_ROOT / "knowledge" / "ranker.json"),
            helpdesk=os.environ.get(
                "CITIZENBOT_HELPDESK",
                "Bộ phận Một cửa của UBND xã, phường nơi bạn cư trú, "
                "hoặc tổng đài Cổng Dịch vụ công quốc gia 1800 1096 (miễn phí)",
            ),
        )
