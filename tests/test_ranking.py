"""The learned ranker and the confidence model fit what their data says."""

import numpy as np
import pytest

from bot.confidence import ConfidenceModel, looks_administrative, off_topic
from bot.ranking import FEATURES, LONG_QUESTION_WORDS, SHORT_QUESTION_WORDS, Ranker, long_share
from bot.siblings import sibling_signals
from bot.text import fold, normalize, words


def test_ranker_learns_which_feature_marks_the_right_procedure_for_short_and_long_questions(tmp_path) -> None:
    rng = np.random.default_rng(0)
    # Short questions are told by how much of the name they cover, long ones by their nearest FAQ question.
    telling = {0.0: FEATURES.index("name_cover"), 1.0: FEATURES.index("dense_faq")}
    queries = []
    for i in range(120):
        share = float(i % 2)
        x = rng.random((8, len(FEATURES)))
        x[:, telling[share]] *= 0.7
        right = int(rng.integers(8))
        x[right, telling[share]] = 1.0  # the right one always scores best on it, by a margin
        y = np.zeros(8, dtype=bool)
        y[right] = True
        queries.append((x, y, 1.0, share))
    ranker = Ranker.fit(queries)
    assert int(np.argmax(ranker.short_weights)) == telling[0.0]
    assert int(np.argmax(ranker.long_weights)) == telling[1.0]
    hits = sum(bool(y[int(np.argmax(ranker.scores(x, share)))]) for x, y, _, share in queries)
    assert hits >= 0.95 * len(queries)

    path = tmp_path / "ranker.json"
    ranker.save(path)
    assert Ranker.load(path) == ranker


def test_long_share_blends_from_short_to_long_questions() -> None:
    assert long_share(4) == 0.0 and long_share(SHORT_QUESTION_WORDS) == 0.0
    assert long_share(LONG_QUESTION_WORDS) == 1.0 and long_share(200) == 1.0
    assert 0.0 < long_share((SHORT_QUESTION_WORDS + LONG_QUESTION_WORDS) // 2) < 1.0


def test_confidence_thresholds_leave_most_out_of_scope_questions_below() -> None:
    rng = np.random.default_rng(1)
    in_scope = rng.normal(1.0, 0.3, (200, 3))
    out_of_scope = rng.normal(-1.0, 0.3, (100, 3))
    samples = np.vstack([in_scope, out_of_scope])
    correct = np.array([True] * 200 + [False] * 100)
    model = ConfidenceModel.fit(samples, correct, ~correct)
    x = (samples - np.array(model.mean)) / np.array(model.scale)
    p = 1 / (1 + np.exp(-(x @ np.array(model.weights) + model.bias)))
    assert (p[~correct] < model.clarify_threshold).mean() >= 0.94
    assert (p[correct] >= model.answer_threshold).mean() >= 0.95
    assert model.clarify_threshold <= model.answer_threshold


def test_weak_words_of_administration_are_not_off_topic_but_no_signal_for_the_confidence() -> None:
    for question in (
        "chế độ cho bộ đội xuất ngũ",
        "hợp đồng lao động thử việc bao lâu",
        "thừa phát lại lập vi bằng",
        "người tâm thần không có người nuôi dưỡng",
    ):
        assert not off_topic(question)
        assert not looks_administrative(question)
    assert off_topic("giá vàng hôm nay")


def test_administrative_questions_are_told_from_chit_chat() -> None:
    assert looks_administrative("lam the can cuoc o dau")
    assert looks_administrative("thủ tục nhận nuôi con nuôi")
    # Each called off-topic once: asked back or logged for staff now.
    assert looks_administrative("đo đạc lại diện tích đất")
    assert looks_administrative("nhận nuôi trẻ bị bỏ rơi")
    assert looks_administrative("khen thưởng bà mẹ Việt Nam anh hùng")
    assert looks_administrative("hỗ trợ giống cây trồng sau bão lũ")
    assert looks_administrative("cam kết an toàn thực phẩm")
    assert looks_administrative("đất lấn chiếm hành lang đường")
    assert looks_administrative("từ chối nhận di sản")
    assert looks_administrative("con tôi muốn đổi tên vì tên xấu")
    assert looks_administrative("thành lập hội")
    assert looks_administrative("xin giao đất làm nhà ở")
    assert not looks_administrative("ngày thành lập đảng là ngày nào")
    assert looks_administrative("huân chương kháng chiến được hưởng gì")
    assert looks_administrative("thanh niên xung phong được hưởng chế độ gì")
    assert looks_administrative("cap phu hieu xe khach")
    assert looks_administrative("giao rung cho ho gia dinh")
    assert looks_administrative("vay von giai quyet viec lam")
    assert not looks_administrative("vay vốn mua nhà")  # a bank's loan: asking back with social housing was wrong
    assert not looks_administrative("giá vàng hôm nay bao nhiêu")
    assert not looks_administrative("chào em")


def _syllables(name: str) -> frozenset[str]:
    return frozenset(fold(w) for w in words(normalize(name)))


def test_sibling_signals_tell_which_distinguishing_words_the_question_mentions() -> None:
    names = [
        _syllables("Thủ tục đăng ký khai sinh"),
        _syllables("Thủ tục đăng ký khai sinh có yếu tố nước ngoài"),
        _syllables("Cấp hộ chiếu phổ thông"),
    ]
    popularity = [0.9, 0.4, 0.8]
    asked = _syllables("đăng ký khai sinh cho con")
    plain, foreign, unrelated = sibling_signals(names, popularity, asked, lambda t: 1.0)
    assert (foreign.found, foreign.missed) == (0.0, 1.0)  # "có yếu tố nước ngoài" was not asked
    assert (plain.found, plain.missed) == (0.0, 0.0)  # nothing in its name that the sibling lacks
    assert plain.popularity == 0.0 and foreign.popularity == pytest.approx(-0.5)
    assert (unrelated.found, unrelated.missed, unrelated.popularity) == (0.0, 0.0, 0.0)  # no sibling
    # Names sharing less than half their syllables are not siblings.
    short = [_syllables("Đăng ký khai sinh"), names[1]]
    assert sibling_signals(short, [0.9, 0.4], _syllables("khai sinh"), lambda t: 1.0)[1].missed == 0.0

    asked = _syllables("khai sinh cho con có yếu tố nước ngoài")
    _, foreign, _ = sibling_signals(names, popularity, asked, lambda t: 1.0)
    assert (foreign.found, foreign.missed) == (1.0, 0.0)


def test_sibling_signals_weigh_distinguishing_words_by_idf() -> None:
    names = [_syllables("Cấp giấy phép vận tải"), _syllables("Cấp lại giấy phép vận tải đường bộ")]
    weights = {"lai": 3.0, "duong": 0.5, "bo": 0.5}
    _, again = sibling_signals(names, [0.0, 0.0], _syllables("xin cấp lại giấy phép"), lambda t: weights.get(t, 1.0))
    assert again.found == pytest.approx(3.0 / 4.0)
    assert again.missed == pytest.approx(1.0 / 4.0)
