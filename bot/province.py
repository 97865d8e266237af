"""Procedures that only some provinces run.

A few catalogue procedures carry the name of the province that runs them: its own
support policies, dyke permits, port subsidies ("… trên địa bàn tỉnh Thanh Hóa").
A deployment that names its province (``CITIZENBOT_PROVINCE``) does not offer
other provinces' procedures to its citizens; one that names none answers them
with a note that they apply in that province only.
"""

from __future__ import annotations

import re

from bot.text import fold

# The 63 provinces and centrally-run cities before the 2025 merger; the 34 after it kept one of these names.
PROVINCES = (
    "An Giang", "Bà Rịa - Vũng Tàu", "Bạc Liêu", "Bắc Giang", "Bắc Kạn", "Bắc Ninh", "Bến Tre", "Bình Dương",
    "Bình Định", "Bình Phước", "Bình Thuận", "Cà Mau", "Cao Bằng", "Cần Thơ", "Đà Nẵng", "Đắk Lắk", "Đắk Nông",
    "Điện Biên", "Đồng Nai", "Đồng Tháp", "Gia Lai", "Hà Giang", "Hà Nam", "Hà Nội", "Hà Tĩnh", "Hải Dương",
    "Hải Phòng", "Hậu Giang", "Hòa Bình", "Hồ Chí Minh", "Hưng Yên", "Khánh Hòa", "Kiên Giang", "Kon Tum",
    "Lai Châu", "Lạng Sơn", "Lào Cai", "Lâm Đồng", "Long An", "Nam Định", "Nghệ An", "Ninh Bình", "Ninh Thuận",
    "Phú Thọ", "Phú Yên", "Quảng Bình", "Quảng Nam", "Quảng Ngãi", "Quảng Ninh", "Quảng Trị", "Sóc Trăng",
    "Sơn La", "Tây Ninh", "Thái Bình", "Thái Nguyên", "Thanh Hóa", "Thừa Thiên Huế", "Huế", "Tiền Giang",
    "Trà Vinh", "Tuyên Quang", "Vĩnh Long", "Vĩnh Phúc", "Yên Bái",
)  # fmt: skip
_BY_FOLDED = {fold(name).lower(): name for name in PROVINCES}
_NAME = "|".join(sorted(map(re.escape, _BY_FOLDED), key=len, reverse=True))
# "tỉnh Thanh Hóa", "thành phố Đà Nẵng", "các tỉnh: Thanh Hóa, Nghệ An và Khánh Hoà" (folded, lower case).
# "Bộ Tư lệnh thành phố Hồ Chí Minh" is a military command that every province's soldiers deal with.
_PROVINCE_LIST = re.compile(
    rf"(?<!tu lenh )\b(?:tinh|thanh pho|tp\.?)\s*:?\s+((?:{_NAME})\b(?:\s*(?:,|va)\s*(?:{_NAME})\b)*)"
)
_ONE_NAME = re.compile(rf"\b(?:{_NAME})\b")


def provinces_named(procedure_name: str) -> list[str]:
    """The provinces a procedure's name confines it to, as written in :data:`PROVINCES` (none for most)."""
    folded = fold(procedure_name).lower()
    found = [name for match in _PROVINCE_LIST.finditer(folded) for name in _ONE_NAME.findall(match.group(1))]
    return list(dict.fromkeys(_BY_FOLDED[name] for name in found))


def parse_provinces(setting: str) -> frozenset[str]:
    """``CITIZENBOT_PROVINCE``: the deployment's province, and those merged into it, comma-separated
    ("Tuyên Quang, Hà Giang"). Raises ValueError on a name that is no province."""
    names = [name.strip() for name in setting.split(",") if name.strip()]
    unknown = [name for name in names if fold(name).lower() not in _BY_FOLDED]
    if unknown:
        raise ValueError(f"CITIZENBOT_PROVINCE: not a province: {', '.join(unknown)}")
    return frozenset(_BY_FOLDED[fold(name).lower()] for name in names)


def runs_here(procedure_name: str, provinces: frozenset[str]) -> bool:
    """Whether a deployment in ``provinces`` (none named: any province) runs this procedure."""
    if not provinces:
        return True
    named = provinces_named(procedure_name)
    return not named or any(name in provinces for name in named)


def local_note(procedure_name: str) -> str:
    """'Thủ tục này chỉ áp dụng ở Thanh Hóa.' for a province's own procedure, else ''."""
    named = provinces_named(procedure_name)
    if not named:
        return ""
    places = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " và " + named[-1]
    return f"Thủ tục này chỉ áp dụng ở {places}."
