"""What the callbot says. Written text: the transcript shows it as is, and the synthesizer reads
codes, numbers and abbreviations out through :func:`voice.speech_text.for_speech`."""

from __future__ import annotations

from voice.speech_text import digits_to_words

MENU = "Bạn hãy nói câu hỏi về thủ tục, bấm phím 1 để tra cứu hồ sơ, hoặc phím 0 để gặp cán bộ."
GREETING = "Xin chào, đây là tổng đài trợ lý ảo thủ tục hành chính. " + MENU
ANYTHING_ELSE = "Bạn còn câu hỏi nào khác không?"
ANSWER_OFFER = "Bấm phím sao để nghe lại, phím 2 để nhận chi tiết qua tin nhắn."
ARE_YOU_THERE = "Bạn còn nghe máy không?"
NOT_HEARD = "Xin lỗi, tôi chưa nghe rõ."
UNKNOWN_KEY = "Phím này chưa được dùng."
THINKING_FAILED = "Xin lỗi, hệ thống đang bận nên tôi chưa trả lời được."

ASK_CODE = (
    "Mời bạn bấm các chữ số của mã hồ sơ, bỏ qua chữ H, rồi bấm phím thăng. "
    "Hoặc đọc chậm mười chữ số cuối của mã: sáu số ngày nộp, rồi bốn số thứ tự."
)
BAD_CODE = (
    "Tôi chưa nhận được mã hồ sơ hợp lệ. Mã hồ sơ có 19 chữ số và chữ H; "
    "nếu đọc, bạn đọc mười chữ số cuối của mã."
)
ASK_CHECK = (
    "Để bảo vệ thông tin, mời bạn bấm 4 số cuối của số điện thoại đã đăng ký hồ sơ, rồi bấm phím thăng, "
    "hoặc đọc 4 số đó."
)
BAD_CHECK = "Tôi chưa nhận được đủ 4 chữ số."
YES_NO = "Đúng không? Bấm 1 nếu đúng, 2 nếu sai."
NOT_YES_NO = "Bạn vui lòng nói có hoặc không, hoặc bấm phím 1 hay 2."

ASK_PHONE = "Mời bạn bấm số điện thoại để cán bộ gọi lại, rồi bấm phím thăng."
HANDING_OVER = "Tôi sẽ chuyển yêu cầu của bạn để cán bộ gọi lại."
CANNOT_HELP = "Xin lỗi, tôi chưa giúp được bạn."
GOODBYE = "Cảm ơn bạn đã gọi. Xin chào."
NOTHING_TO_SEND = "Chưa có nội dung nào để gửi tin nhắn."
NO_NUMBER_FOR_SMS = "Tôi không thấy số điện thoại của bạn nên chưa gửi được tin nhắn."


def confirm_code(code: str) -> str:
    return f"Mã hồ sơ bạn cho là {code}. {YES_NO}"


def confirm_reception(reception: str) -> str:
    """The read-back of a code said by its date and sequence part ('261122-0031'): only what the caller said."""
    date, sequence = reception.split("-")
    yy, mm, dd = date[0:2], date[2:4], date[4:6]
    return f"Hồ sơ nộp ngày {int(dd)}/{int(mm)}/20{yy}, số thứ tự {sequence}. {YES_NO}"


def confirm_check(digits: str) -> str:
    return f"Bốn số cuối là {digits_to_words(digits)}. {YES_NO}"


def choices(names: list[str]) -> str:
    options = " ".join(f"Bấm {i}: {name.rstrip('.')}." for i, name in enumerate(names, 1))
    return f"Bạn muốn hỏi thủ tục nào? {options} Hoặc nói lại câu hỏi."


def ticket(number: str) -> str:
    return f"Số phiếu yêu cầu của bạn là {number}. Cán bộ sẽ gọi lại cho bạn trong giờ hành chính. {GOODBYE}"


def handover_failed(helpdesk: str) -> str:
    return f"Xin lỗi, tôi chưa tạo được yêu cầu gọi lại. Bạn vui lòng liên hệ {helpdesk}. {GOODBYE}"


SMS_QUEUED = f"Tôi đã gửi chi tiết qua tin nhắn tới số điện thoại của bạn. {ANYTHING_ELSE}"


def out_of_order(helpdesk: str) -> str:
    return (
        "Xin lỗi, tổng đài tự động đang gặp sự cố kỹ thuật nên chưa nghe và trả lời được. "
        f"Bạn vui lòng liên hệ {helpdesk} hoặc gọi lại sau. {GOODBYE}"
    )
