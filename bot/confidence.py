"""Calibrated confidence that the top procedure is the right one.

A logistic model over retrieval signals, fitted by ``citizenbot calibrate`` on
development questions (right top-1 answers against wrong ones and
out-of-scope questions) and stored in ``knowledge/calibration.json``. Below
``clarify_threshold`` the assistant abstains; between the two thresholds it
asks which procedure the citizen means; above ``answer_threshold`` it answers.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bot.retriever import SearchResult
from bot.text import fold, with_official_terms

FEATURES = [
    "share",
    "score_gap",
    "lex_name",  # of the name or the best everyday name
    "dense_name",  # of the name or the best everyday name
    "dense_faq",
    "question_cover",
    "topic_cover",
    "query_weight",
    "administrative",
]

# Words that make a question about public administration even when nothing
# matches: such a question is logged for staff rather than waved off as off-topic,
# and only such a question is asked back which procedure it means; the confidence
# counts them as a signal (feature "administrative"). Matched on the
# folded text with the official terms of its everyday words added, so short
# folded words that are also everyday words ("xe", "đặt", "giày") are left out.
_ADMINISTRATIVE = re.compile(
    r"\b(thu tuc|ho so|giay phep|giay chung nhan|giay xac nhan|giay khai sinh|giay to tuy than|dang ky|cap lai|"
    r"cap doi|cap moi|xin cap|xin phep|gia han|chung thuc|cong chung|chung nhan|xac nhan|uy quyen|le phi|ubnd|"
    r"uy ban|cong an|mot cua|dich vu cong|vneid|tam tru|tam vang|thuong tru|ho khau|luu tru|cu tru|can cuoc|"
    r"cmnd|dinh danh|ho chieu|thi thuc|xuat canh|nhap canh|quoc tich|khai sinh|ket hon|ly hon|khai tu|ho tich|"
    r"cai chinh|doi ten|trich luc|giam ho|con nuoi|nhan cha|nhan con|ly lich|tu phap|thua ke|di chuc|bao hiem|"
    r"bhxh|bhyt|tro cap|luong huu|nghi huu|that nghiep|thai san|om dau|tai nan lao dong|tu tuat|mai tang|"
    r"hoa tang|nguoi co cong|liet si|thuong binh|benh binh|cuu chien binh|thanh nien xung phong|huan chuong|"
    r"me viet nam anh hung|bao tro xa hoi|ho ngheo|can ngheo|khuyet tat|nguoi cao tuoi|bang lai|so do|so hong|"
    r"dat dai|thua dat|tach thua|the chap|sang ten|xay dung|sua chua nha|xay nha|tang cho|chuyen nhuong|"
    r"chuyen muc dich|muc dich su dung|su dung dat|giai phong mat bang|den bu|boi thuong|hoan cong|nha dat|"
    r"dat nong nghiep|dat lua|dat trong lua|dat vuon|dat rung|lam nghiep|lam san|van chuyen go|cap so|lam so|"
    r"tap hoa|so nha|chu ho|do dac|dien tich dat|nhan nuoi|nha thuoc|quay thuoc|khen thuong|bang khen|"
    r"danh hieu|lu lut|bao lu|giam tru gia canh|an toan thuc pham|ngan hang chinh sach|dich benh|thiet hai|"
    r"lan chiem|chiem dat|dat (?:\w+ ){0,3}bi (?:\w+ ){0,2}chiem|di san|nop phat|phat nguoi|vi pham giao thong|"
    r"ngoai gia thu|tro giup phap ly|sat lo|trong rung|"
    r"bao tu|nguoi dai dien theo phap luat|kiem dich|nhap khau|xuat khau|phong kham|tam ngung|to khai|mau don|"
    r"chung chi|hanh nghe|cap phep|kiem dinh|kinh doanh|doanh nghiep|chu truong dau tu|thanh lap cong ty|"
    r"thanh lap hoi|mo cong ty|giai the|trach nhiem huu han|giao dat|co phan|hop tac xa|thue|hoa don|hai quan|"
    r"tau ca|ngu dan|thuyen vien|phuong tien thuy|thong hanh|bien gioi|thien tai|khoang san|xe may|o to|"
    r"bien so|dang kiem|cap dien|hop dong mua ban dien|cong to|hoc phi|hoc bong|chuyen truong|van bang|"
    r"tot nghiep|tuyen sinh|nghia vu quan su|khieu nai|to cao|tiep cong dan|phu hieu|giao rung|giai quyet viec lam)\b"
)
# Words of public administration that say less about whether a procedure answers the question ("lao động" is
# also labour law, "hòa giải" also a family quarrel): a question not answered that has one is declined with the
# help desk and logged for staff rather than called off-topic, but it is not asked back, and they are no signal
# for the confidence. As one, they raised wrong answers above the threshold ("hỗ trợ người lao động đi làm việc ở
# nước ngoài" got the support in a dispute abroad at 0.70, "công bố sản phẩm mỹ phẩm" the imported cosmetics at
# 0.53); asked back, "hợp đồng lao động thử việc bao lâu" was offered the licences of agencies sending workers
# abroad.
_ADMINISTRATIVE_WEAKLY = re.compile(
    r"\b(xuat ngu|phuc vien|quan nhan|lao dong|cong bo san pham|thua phat lai|vi bang|hoa giai|hoc ba|tam than|"
    r"bao luc gia dinh|xam hai|cuu doi|thoat ngheo|hiv|to hop tac|thuy san|kien nghi|phan anh|o nhiem|"
    r"nop (?:qua mang|tren mang|online|truc tuyen)|tranh chap|via he|long duong|hoi cho|trien lam|benh nghe nghiep)\b"
)


def looks_administrative(normalized_question: str) -> bool:
    return bool(_ADMINISTRATIVE.search(fold(with_official_terms(normalized_question))))


def off_topic(normalized_question: str) -> bool:
    """A question with no word of public administration, not even a weak one: declined as off-topic."""
    folded = fold(with_official_terms(normalized_question))
    return not (_ADMINISTRATIVE.search(folded) or _ADMINISTRATIVE_WEAKLY.search(folded))


def features(result: SearchResult) -> np.ndarray:
    candidates = result.candidates
    if not candidates:
        return np.zeros(len(FEATURES), dtype=np.float64)
    top = candidates[0]
    # The same procedure at another level is no rival: the assistant answers them as one (bot.assistant).
    variants = {c.procedure.code: c.probability for c in result.level_variants()}
    rival = next((c for c in candidates if c.procedure.code not in variants), None)
    return np.array(
        [
            sum(variants.values()),
            top.score - rival.score if rival is not None else 1.0,
            min(max(top.feature("lex_name"), top.feature("lex_alias")), 1.5),
            max(top.feature("dense_name"), top.feature("dense_alias")),
            top.feature("dense_faq"),
            top.feature("question_cover"),
            top.feature("topic_cover"),
            np.log1p(result.query_weight),
            float(looks_administrative(result.normalized)),
        ],
        dtype=np.float64,
    )


@dataclass
class ConfidenceModel:
    weights: list[float]
    bias: float
    mean: list[float]
    scale: list[float]
    clarify_threshold: float
    answer_threshold: float

    def probability(self, result: SearchResult) -> float:
        if not result.candidates:
            return 0.0
        x = (features(result) - np.array(self.mean)) / np.array(self.scale)
        return float(1.0 / (1.0 + np.exp(-(x @ np.array(self.weights) + self.bias))))

    @classmethod
    def fit(cls, samples: np.ndarray, correct: np.ndarray, out_of_scope: np.ndarray) -> ConfidenceModel:
        """Fit on feature rows; thresholds from the out-of-scope questions' scores."""
        mean = samples.mean(axis=0)
        scale = samples.std(axis=0) + 1e-6
        x = (samples - mean) / scale
        y = correct.astype(np.float64)
        w = np.zeros(x.shape[1])
        b = 0.0
        for _ in range(3000):  # plain gradient descent with a little L2
            p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
            w -= 0.1 * (x.T @ (p - y) / len(y) + 0.01 * w)
            b -= 0.1 * float(np.mean(p - y))
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        # Abstain on at least 95 % of the out-of-scope questions seen in calibration.
        clarify = float(np.quantile(p[out_of_scope], 0.95)) if out_of_scope.any() else 0.3
        answer = max(clarify, 0.5)
        return cls(w.tolist(), b, mean.tolist(), scale.tolist(), clarify, answer)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"features": FEATURES, **asdict(self)}, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> ConfidenceModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.pop("features") != FEATURES:
            raise ValueError(f"{path} was fitted on other features: run `citizenbot calibrate` again")
        return cls(**data)
