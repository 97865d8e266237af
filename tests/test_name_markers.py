"""The words that set a procedure apart from its siblings, in names and in questions."""

import pytest

from bot.name_markers import name_markers, question_markers, without_case_words, without_markers
from bot.text import normalize


def asked(question: str) -> set[str]:
    return set(question_markers(normalize(question)))


@pytest.mark.parametrize(
    ("name", "markers"),
    [
        ("Đăng ký tạm trú", set()),
        ("Xóa đăng ký tạm trú", {"remove"}),
        ("Gia hạn tạm trú", {"extend"}),
        ("Cấp lại thẻ căn cước (thực hiện tại cấp tỉnh)", {"reissue"}),
        ("Cấp đổi thẻ căn cước (thực hiện tại cấp trung ương)", {"exchange", "central"}),
        ("Thủ tục đăng ký khai sinh có yếu tố nước ngoài", {"foreign"}),
        ("Tạm dừng hưởng trợ cấp thất nghiệp", {"pause"}),
        ("Gia hạn, sửa đổi, bổ sung, cấp lại Giấy chứng nhận", {"extend", "correct", "reissue"}),
        # A provincial agency, named after the cities "trực thuộc trung ương" that rank as provinces.
        ("Cấp Giấy phép vận chuyển vũ khí tại Công an tỉnh, thành phố trực thuộc trung ương", set()),
        ("Huỷ đăng ký tàu cá", {"remove"}),  # the other spelling of "hủy"
        ("Thủ tục đăng ký khai sinh cho người đã có hồ sơ, giấy tờ cá nhân", {"grown_up"}),
        (
            "Đăng ký, cấp Giấy chứng nhận quyền sử dụng đất cho người nhận chuyển nhượng quyền sở hữu nhà ở, công "
            "trình xây dựng trong dự án bất động sản",
            {"project"},
        ),
        # A lost civil status paper is registered again: "làm lại giấy khai sinh bị mất".
        ("Thủ tục đăng ký lại khai sinh", {"reissue"}),
        # The cases a procedure also covers are no special case of it.
        (
            "Cấp Chứng chỉ hành nghề dược (bao gồm cả trường hợp cấp Chứng chỉ hành nghề dược bị thu hồi theo quy "
            "định tại các khoản 1, 2, 4 Điều 28 của Luật dược) theo hình thức xét hồ sơ",
            set(),
        ),
    ],
)
def test_markers_in_names(name: str, markers: set[str]) -> None:
    assert set(name_markers(normalize(name))) == markers


@pytest.mark.parametrize(
    ("question", "markers"),
    [
        ("đăng ký tàu cá ở đâu", set()),
        ("làm lại hộ chiếu bị mất", {"reissue", "report_loss"}),
        ("lam lai ho chieu bi mat", {"reissue", "report_loss"}),
        ("tạm trú sắp hết hạn thì sao", {"extend", "exchange"}),
        ("cắt khẩu cho người đã mất", {"remove"}),
        ("giấy khai sinh ghi sai ngày sinh", {"correct"}),
        ("lấy chồng Hàn Quốc đăng ký kết hôn ở đâu", {"foreign"}),
        # Renouncing Vietnamese nationality is no foreigner's case; a foreign nationality is.
        ("xin thôi quốc tịch việt nam", set()),
        ("xin thoi quoc tich viet nam", set()),
        ("kết hôn với người có quốc tịch Úc", {"foreign"}),
        ("có việc làm rồi thì báo dừng hẳn thất nghiệp", {"end"}),
        # A lost wallet's papers are lost: "mất ví có … bằng lái xe" got a new licence.
        ("mất ví có bằng lái xe", {"reissue", "report_loss"}),
        ("danh roi ho chieu o san bay", {"reissue", "report_loss"}),
        # Damage is an exchange: a land certificate eaten by termites got a project's land certificate (0.64).
        ("sổ đỏ bị mối ăn mất một góc", {"exchange"}),
        ("thẻ căn cước gắn chip bị lỗi", {"exchange"}),  # answered with a first card
        ("so do bi uot nhoe chu", {"exchange"}),
        # A grown-up's birth registration: "đã nộp hồ sơ" is a dossier submitted, a baby has no birth paper yet.
        ("mẹ tôi 60 tuổi chưa bao giờ có giấy khai sinh", {"grown_up"}),
        ("lam khai sinh cho nguoi lon", {"grown_up"}),
        ("tôi đã nộp hồ sơ khai sinh bao giờ có kết quả", set()),
        ("con mới sinh chưa có giấy khai sinh", set()),
        ("làm sổ hồng chung cư", {"project"}),
        ("xin phép xây nhà tạm", {"temporary"}),
    ],
)
def test_markers_in_questions(question: str, markers: set[str]) -> None:
    assert asked(question) == markers


def test_losing_is_not_taking_time_dying_or_losing_a_job() -> None:
    assert asked("làm hộ chiếu mất bao lâu") == set()  # "mất" here is how long it takes
    assert asked("đăng ký khai tử cho bố mất tuần trước") == set()
    # "làm mất" is how long making it takes when "bao nhiêu ngày" follows, not "lost".
    assert asked("ho chieu lam mat bao nhieu ngay") == set()
    assert asked("làm mất hộ chiếu thì làm lại mất bao lâu") == {"reissue", "report_loss"}
    # A lost job, strength or person is no lost paper: "chồng bị mất tích" got a marriage registered again.
    assert asked("bị mất việc thì hưởng trợ cấp gì") == set()
    assert asked("bi mat suc lao dong co duoc tro cap khong") == set()
    assert asked("chồng bị mất tích 3 năm làm sao ly hôn") == set()
    assert asked("giay chung sinh bi mat lam sao khai sinh") == set()  # registered again, not for the first time


def test_an_accented_syllable_must_match_exactly() -> None:
    assert "exchange" not in asked("đợi lâu quá")  # "đợi" (wait) is not "đổi"
    assert "exchange" in asked("doi cccd")  # typed without diacritics it may be "đổi"


def test_a_name_without_its_markers_keeps_the_rest() -> None:
    assert without_markers(normalize("Cấp lại thẻ căn cước")).split() == ["thẻ", "căn", "cước"]
    assert without_markers(normalize("Xóa đăng ký tàu cá")).split() == ["đăng", "ký", "tàu", "cá"]


@pytest.mark.parametrize(
    ("question", "left"),
    [
        ("bị mất thì làm lại ở đâu", "thì ở đâu"),
        ("hết hạn thì gia hạn thế nào", "thì thế nào"),
        # A loss that names the paper keeps it.
        ("mất hộ chiếu làm lại ở đâu", "mất hộ chiếu ở đâu"),
        ("cấp đổi giấy phép lái xe", "giấy phép lái xe"),
    ],
)
def test_words_saying_which_case_are_left_out_when_asking_what_a_question_names(question: str, left: str) -> None:
    assert without_case_words(question).split() == left.split()

