"""BM25 over syllables, folded syllables and folded bigrams, with the words that only ask weighed down."""

import numpy as np

from bot.lexical import ASKING_TERM_WEIGHT, LexicalIndex, terms
from bot.text import normalize


def test_terms_are_raw_folded_and_bigrams() -> None:
    assert terms("tạm trú") == ["r:tạm", "r:trú", "f:tam", "f:tru", "b:tam_tru"]
    assert terms("tam tru") == ["f:tam", "f:tru", "b:tam_tru"]  # no raw term for an unaccented syllable


def test_a_question_finds_its_topic_not_its_way_of_asking() -> None:
    documents = [
        "Sau bao nhiêu ngày thì có kết quả thẩm định thiết kế?",
        "Thời gian cấp chứng chỉ hành nghề là bao nhiêu ngày?",
        "Đăng ký tạm trú",
    ]
    index = LexicalIndex.build([normalize(d) for d in documents])
    scores, _ = index.scores(normalize("tam tru bao nhieu ngay thi co"))
    assert int(np.argmax(scores)) == 2


def test_asking_terms_weigh_less_in_the_query_weight() -> None:
    index = LexicalIndex.build([normalize(d) for d in ("đăng ký tạm trú bao lâu", "bao nhiêu", "hộ chiếu")])
    columns, weights = index.query_terms(normalize("tạm trú bao nhiêu"))
    term_of = {column: term for term, column in index.vocabulary.items()}
    weight_of = {term_of[c]: float(w) for c, w in zip(columns, weights, strict=True)}
    assert weight_of["f:bao"] == ASKING_TERM_WEIGHT and weight_of["b:bao_nhieu"] == ASKING_TERM_WEIGHT
    assert weight_of["f:tam"] == 1.0 and weight_of["b:tru_bao"] == 1.0  # a bigram half topic counts fully
    assert index.scores(normalize("bao nhiêu"))[1] < index.scores(normalize("hộ chiếu"))[1]


def test_an_accented_word_only_asks_as_written() -> None:
    """Typed with diacritics, "thẻ" and "ô tô" name something; folded, they are asking words ("thế", "ở tờ")."""
    index = LexicalIndex.build([normalize(d) for d in ("cấp thẻ", "thế nào", "xe ô tô")])
    term_of = {column: term for term, column in index.vocabulary.items()}

    def weights(question: str) -> dict[str, float]:
        columns, weights = index.query_terms(normalize(question))
        return {term_of[c]: float(w) for c, w in zip(columns, weights, strict=True)}

    assert weights("thẻ")["f:the"] == 1.0 and weights("thế")["f:the"] == ASKING_TERM_WEIGHT
    assert weights("the")["f:the"] == ASKING_TERM_WEIGHT  # typed without diacritics, it may be either
    assert weights("ô tô")["b:o_to"] == 1.0 and weights("ở tờ")["b:o_to"] == ASKING_TERM_WEIGHT
    assert weights("thẻ thế nào")["f:the"] == 1.0  # one occurrence naming something is enough
