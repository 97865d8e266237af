"""The learned ranker and the confidence model fit what their data says."""

import numpy as np

from bot.confidence import ConfidenceModel, looks_administrative
from bot.ranking import FEATURES, Ranker


def test_ranker_learns_which_feature_marks_the_right_procedure(tmp_path) -> None:
    rng = np.random.default_rng(0)
    useful = FEATURES.index("name_cover")
    queries = []
    for _ in range(60):
        x = rng.random((8, len(FEATURES)))
        x[:, useful] *= 0.7
        right = int(rng.integers(8))
        x[right, useful] = 1.0  # the right one always covers the name best, by a margin
        y = np.zeros(8, dtype=bool)
        y[right] = True
        queries.append((x, y, 1.0))
    ranker = Ranker.fit(queries, epochs=200)
    assert int(np.argmax(ranker.weights)) == useful
    hits = sum(bool(y[int(np.argmax(ranker.scores(x)))]) for x, y, _ in queries)
    assert hits >= 0.95 * len(queries)

    path = tmp_path / "ranker.json"
    ranker.save(path)
    assert Ranker.load(path).weights == ranker.weights


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


def test_administrative_questions_are_told_from_chit_chat() -> None:
    assert looks_administrative("lam the can cuoc o dau")
    assert looks_administrative("thủ tục nhận nuôi con nuôi")
    assert not looks_administrative("giá vàng hôm nay bao nhiêu")
    assert not looks_administrative("chào em")
