"""End to end on the real knowledge base and index that set-up builds in var/.

These read the store, index, ranker and calibration a newcomer's `make test`
builds from ../shared/data and knowledge/; nothing here is a fixture.
"""

import os
import random
import shutil

import pytest

from bot.assistant import Assistant
from bot.procedure import Detail
from bot.settings import Settings


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    settings = Settings.from_env()
    if not (settings.index_dir / "CURRENT").is_file():
        pytest.fail(f"No index in {settings.index_dir}: run `make setup` (or citizenbot ingest && citizenbot index)")
    # A copy of the store: what these questions log as unanswered stays out of the real review queue.
    database = tmp_path_factory.mktemp("store") / "citizenbot.db"
    shutil.copy(settings.var_dir / "citizenbot.db", database)
    return Assistant.from_settings(Settings.from_env({**os.environ, "CITIZENBOT_DATABASE_URL": f"sqlite:///{database}"}))


def test_every_catalogue_procedure_is_findable_by_its_name(assistant: Assistant) -> None:
    procedures = list(assistant.retriever.procedures.values())
    sample = random.Random(7).sample([p for p in procedures if p.detail is Detail.CATALOG], 60)
    missed = []
    for procedure in sample:
        ranked = assistant.search(procedure.name).candidates[:5]
        # Several codes can share one name (e.g. the same procedure at two levels).
        if not any(c.procedure.name == procedure.name for c in ranked):
            missed.append(procedure.name)
    assert not missed


@pytest.mark.parametrize(
    ("question", "code", "section", "quoted"),
    [
        ("lam tam tru can giay to gi", "1.004194", "documents", "CT01"),
        ("đăng ký tạm trú mất bao nhiêu tiền", "1.004194", "fees", "đồng"),
        ("lam ho chieu het bao nhieu tien", "1.001456", "fees", "200.000 đồng"),
        # Rural houses are exempt: the fees were quoted, as if every house needed the permit.
        ("xây nhà ở quê có phải xin phép không", "1.013225", "conditions", "nông thôn dưới 07 tầng"),
    ],
)
def test_common_questions_get_the_asked_section_with_its_citation(
    assistant: Assistant, question: str, code: str, section: str, quoted: str
) -> None:
    reply = assistant.ask(question)
    assert reply.kind == "answer", reply.text
    assert reply.procedure_code == code
    assert reply.section == section
    assert quoted in reply.text
    assert f"mã {code}" in reply.text and "ngày rà soát" in reply.text


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("đăng ký khai sinh cho con", "1.001193"),
        ("dang ky khai sinh co yeu to nuoc ngoai", "2.000528"),
        ("dang ky khai sinh luu dong", "1.003583"),
        ("đăng ký kết hôn", "1.000894"),
        ("đăng ký kết hôn có yếu tố nước ngoài", "2.000806"),
    ],
)
def test_sibling_procedures_are_told_apart_by_the_words_asked(assistant: Assistant, question: str, code: str) -> None:
    ranked = assistant.search(question).candidates
    assert ranked[0].procedure.code == code, [c.procedure.name for c in ranked[:3]]
    # The siblings it beat carry words the question did not use ("lưu động", "có yếu tố nước ngoài").
    assert any(c.feature("sibling_missed") > 0 for c in ranked[1:5])


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("lệ phí chứng thực bao nhiêu", "chứng thực"),  # a copy, a signature or a contract
        ("can cuoc mat bao lau", "căn cước"),  # first card, renewal or replacement
    ],
)
def test_questions_fitting_sibling_procedures_ask_which_one(assistant: Assistant, question: str, topic: str) -> None:
    reply = assistant.ask(question)
    assert reply.kind == "clarify", reply.text
    assert len(reply.choices) >= 2
    assert all(topic in choice.name.lower() for choice in reply.choices[:2])


def test_two_procedures_joined_in_one_dossier_get_the_joint_procedure_alone(assistant: Assistant) -> None:
    """A newborn's birth and permanent residence are registered in one dossier (with the health insurance
    card); answering each of the two after it made three lists of papers."""
    reply = assistant.ask("lam giay khai sinh va dang ky thuong tru cho con can giay to gi")
    assert reply.kind == "answer" and reply.procedure_code == "2.002621", reply.text
    assert reply.text.count("Hồ sơ cần chuẩn bị") == 1
    assert assistant.ask("làm khai sinh với nhập hộ khẩu cho con luôn một lần được không").procedure_code == "2.002621"


def test_a_question_about_two_procedures_gets_both_answers(assistant: Assistant) -> None:
    reply = assistant.ask("dang ky ket hon va dang ky thuong tru cho vo can giay to gi")
    assert reply.kind == "answer" and reply.section == "documents", reply.text
    assert "mã 1.000894" in reply.text and "mã 1.004222" in reply.text  # kết hôn, thường trú
    assert reply.text.count("Hồ sơ cần chuẩn bị") == 2
    both = assistant.ask("lam ho chieu va tam tru")  # "tạm trú" alone is its ordinary case, the registration
    assert both.kind == "answer" and "mã 1.001456" in both.text and "mã 1.004194" in both.text, both.text
    # "cùng lúc" asks for both at once, not for the birth registration combined with a parent's recognition
    # (the passport's part, "hộ chiếu cùng lúc được không", was answered with that).
    together = assistant.ask("tôi muốn làm căn cước và hộ chiếu cùng lúc được không")
    assert "mã 2.000200" in together.text and "mã 1.001456" in together.text, together.text
    assert "mã 1.000689" not in together.text
    # Asked back whole, a part is answered and the other asked back about.
    partly = assistant.ask("lam ho chieu va dang ky")
    assert partly.kind == "clarify" and "mã 1.001456" in partly.text and partly.choices, partly.text
    # Parts that name no procedure with confidence add nothing ("cấp đổi" alone).
    single = assistant.ask("cấp đổi và cấp lại thẻ căn cước ở đâu")
    assert single.kind == "answer" and single.text.count("Nguồn:") == 1, single.text


def test_papers_lost_together_get_an_answer_each(assistant: Assistant) -> None:
    # Named one after another with no "và", only the driving licence's reissue was answered.
    reply = assistant.ask("em bi mat vi mat het giay to can cuoc bang lai the bao hiem")
    assert reply.kind == "answer", reply.text
    for code in ("2.001194", "3.000348", "1.002759"):  # the identity card, the driving licence, health insurance
        assert f"mã {code}" in reply.text, reply.text
    # With "và", a new driving licence (1.002835) was the only answer.
    wallet = assistant.ask("mất ví có căn cước và bằng lái xe")
    assert wallet.kind == "answer" and "mã 2.001194" in wallet.text and "mã 3.000348" in wallet.text, wallet.text
    assert "mã 1.002835" not in wallet.text


def test_only_the_part_not_answered_goes_to_the_staff_queue(assistant: Assistant) -> None:
    def logged_while(question: str) -> list[str]:
        before = max((row.id for row in assistant.store.unanswered(1)), default=0)
        assistant.ask(question)
        return [row.question for row in assistant.store.unanswered(10) if row.id > before]

    # The passport is answered; staff see the drone licence asked for, not the whole question.
    assert logged_while("lam ho chieu va xin giay phep bay flycam") == ["xin giay phep bay flycam"]
    assert logged_while("làm hộ chiếu và đăng ký") == []  # a part asked back about is not a miss
    assert logged_while("xin giay phep bay flycam") == ["xin giay phep bay flycam"]


@pytest.mark.parametrize(
    "question",
    ["giá vàng hôm nay bao nhiêu", "thoi tiet ngay mai co mua khong", "chào em, em tên gì", "who won the match"],
)
def test_off_topic_questions_are_refused_politely(assistant: Assistant, question: str) -> None:
    reply = assistant.ask(question)
    assert reply.kind == "out_of_scope", reply.text
    assert reply.procedure_code is None
    assert "thủ tục hành chính" in reply.text


@pytest.mark.parametrize(
    "question",
    [
        "tang cho dat cho con can giay to gi",
        "xin số nhà ở đâu",
        "chuyển nhượng quyền sử dụng đất cho người khác",
        "bán bò sang tỉnh khác có cần giấy kiểm dịch không",
        "cho cháu ở nhờ có cần chủ hộ ký không",
        "thành lập công ty tnhh",  # one or two members: unsure, and once called off-topic for it
        "mần giấy tờ nhà đất ở mô",  # central speech: "làm … ở đâu"
        "công nhận tốt nghiệp THCS",
        "hoàn công nhà ở",
        "làm thẻ đi chợ biên giới",
        "xin học bổng cho học sinh nghèo",
        "đất lâm nghiệp có được cấp sổ không",
        "con ngoài giá thú có được mang họ bố",
        "ho tro thiet hai do dich ta lon chau phi",
        "me toi la me viet nam anh hung duoc huong che do gi",
        "chế độ cho bộ đội xuất ngũ",
        "thừa phát lại lập vi bằng",
        "hòa giải ở cơ sở",
        "học sinh bị mất học bạ xin lại",
        "ông tôi 90 tuổi được tiền gì không",
        "tổ hợp tác nuôi cá",
        "nhat ky khai thac thuy san nop o dau",  # a fishing logbook
        "ông bà già rồi được hưởng chế độ gì",
        "gửi đơn kiến nghị về ô nhiễm môi trường",
        "sửa vỉa hè trước nhà",
        "to chuc hoi cho trien lam",  # "hoi cho" folds into asking words ("hỏi", "cho")
        "benh nghe nghiep giam dinh o dau",
        "cai tao xe oto",
    ],
)
def test_administrative_questions_are_never_waved_off_as_off_topic(assistant: Assistant, question: str) -> None:
    """Answered, guided, asked back or, when unsure, logged for staff with the help desk given: not called
    off-topic."""
    assert assistant.ask(question).kind in {"answer", "guide", "clarify", "abstain"}


def test_how_to_submit_online_gets_the_general_guidance(assistant: Assistant) -> None:
    reply = assistant.ask("lam sao de nop ho so truc tuyen tren cong dich vu cong")
    assert reply.kind == "guide" and reply.procedure_code is None, reply.text
    assert "dichvucong.gov.vn" in reply.text and "VNeID" in reply.text
    assert reply.text.splitlines()[-1].startswith("Nguồn: Nghị định 45/2020/NĐ-CP")
    # Whom it is for names no procedure either (the elderly allowance answered this once).
    for_the_elderly = assistant.ask("hướng dẫn nộp hồ sơ online cho người già")
    assert for_the_elderly.kind == "guide", (for_the_elderly.kind, for_the_elderly.procedure_name)
    # Naming a procedure as well gets that procedure's answer.
    named = assistant.ask("đăng ký tạm trú online được không")
    assert named.kind == "answer" and named.procedure_code == "1.004194", named.text


@pytest.mark.parametrize(
    ("question", "code"),
    [
        # "cho trẻ em dưới … tuổi" also ends the name of the birth/residence/health-card bundle for under-6s.
        ("lam ho chieu cho tre em duoi 9 tuoi", "1.001456"),
        ("xin cap the bao hiem y te cho tre duoi 6 tuoi", "2.002621"),
        # A landlord registering tenants, and one removing a tenant who left.
        ("chu tro co phai khai bao tam tru cho nguoi thue khong", "1.004194"),
        ("người thuê trọ chuyển đi chủ trọ có phải xóa tạm trú không", "1.010028"),
        # A certified copy of a document, not the document's own procedure (these named the residence
        # registration and the land-certificate exchange).
        ("xin chứng thực bản sao sổ hộ khẩu", "2.000815"),
        ("cong chung giay khai sinh mat bao nhieu tien", "2.000815"),
        ("chung thuc ban sao bang tot nghiep", "2.000815"),
        # The karaoke licence, not the household-business registration every shop needs.
        ("xin giấy phép kinh doanh karaoke", "1.001029"),
        ("mo quan karaoke can giay phep gi", "1.001029"),
        # A poor single parent is a social-protection beneficiary; "nuôi con" is no adoption.
        ("me don than nuoi con nho co duoc tro cap khong", "1.001776"),
        # Fishing-boat owners call the trip support by what it pays for.
        ("xin ho tro nhien lieu cho tau ca di bien", "1.011801"),
        # "TNHH" spelled out matched the founding of one: the dissolution is asked for.
        ("giải thể công ty tnhh", "2.002023"),
        # Called off-topic: "khai sanh" is the southern spelling, "so hong" read "sổ không".
        ("con tui moi de xong lam giay khai sanh o dau vay", "1.001193"),
        ("so hong chung cu bao gio moi co", "1.012787"),
        # A damaged licence is exchanged: "cấp lại" is for a lost one.
        ("cấp đổi bằng lái xe máy bị hỏng", "3.000347"),
        ("đổi bằng lái xe ô tô hết hạn", "3.000347"),
        # Moving between farm uses needs no permission ("chuyển mục đích" alone was called off-topic).
        ("đăng ký biến động chuyển mục đích", "1.013992"),
        # Called off-topic, or not answered: a child's new name, a private clinic, an electric motorbike.
        ("thay đổi tên cho con", "1.004859"),
        ("mở phòng khám tư nhân", "1.012278"),
        ("đăng ký xe điện", "1.012575"),
        # Year 6 is lower secondary school, not primary.
        ("chuyển trường cho con học lớp 6", "2.002481"),
        ("chuyển trường lớp 4", "1.005099"),
        # Called off-topic.
        ("giấy thông hành đi trung quốc", "1.003494"),
        # The criminal record extract answered the first (an everyday name said "để xin visa"), the
        # household business the second; the third was not answered, the fourth called off-topic, and the
        # elderly's social allowance answered the last two ("người già").
        ("xin visa cho vợ người nước ngoài", "1.000039"),
        ("xin giấy phép kinh doanh vận tải", "1.000703"),
        ("kiểm dịch heo bán đi tỉnh khác", "1.002338"),
        ("nhận nuôi trẻ bị bỏ rơi", "2.001263"),
        ("đăng ký giám hộ cho người già", "1.004837"),
        ("người già nằm một chỗ làm căn cước tại nhà được không", "2.000200"),
        # The re-registration of a lost marriage record answered the first ("kết hôn lại"), the second was
        # called off-topic, the birth registration answered the third.
        ("người đã ly hôn muốn kết hôn lại", "1.000894"),
        ("đổi họ cho con theo họ mẹ", "1.004859"),
        ("cấp lại bản chính giấy khai sinh", "1.004884"),
        # Where the Agent Orange guide sends the third generation.
        ("trợ cấp cho người khuyết tật nhẹ là thế hệ thứ ba của người hoạt động kháng chiến", "1.012823"),
        # The household business ("giấy phép kinh doanh") and a private clinic's licence answered the first
        # and third, the last two were called off-topic. A doctor's licence, since 2024 "giấy phép hành nghề".
        ("giay phep kinh doanh ruou ban le", "2.000620"),
        ("xin giay phep hanh nghe bac si", "1.013614"),
        ("xin giấy phép mở nhóm trẻ tư thục", "1.012971"),
        ("ho tro nguoi lao dong mat viec", "1.001978"),
        ("giấy tờ đất đứng tên bố đã mất giờ chia cho các con", "2.001406"),
        ("lam giay khai sihn", "1.001193"),  # a typo: called off-topic
        # The ministry's passport office answered it: an everyday name of that variant began "làm hộ chiếu ở".
        ("chị ơi làm hộ chiếu ở đâu ạ", "1.001456"),
        ("đăng ký khai tử online trên vneid", "2.002622"),  # the temporary residence's "… online trên VNeID"
        # The identity card made at home answered the first at 0.55; the facility doing inspections, the
        # second; the exam registration, the third.
        ("mẹ tôi bị liệt nằm một chỗ có được trợ cấp không", "1.001776"),
        ("tàu cá dưới 12 mét có phải đăng kiểm không", "1.003563"),
        ("mất bằng cấp 3 làm lại được không", "1.005092"),
        # The certificate's exchange answered the first at 0.80; the others were not answered.
        ("dạ sổ hồng bị ngân hàng giữ thì làm sao", "1.011443"),
        ("mo tiem tap hoa can dang ky gi", "1.001612"),
        ("muốn mở tiệm cắt tóc cần giấy phép gì", "1.001612"),
        # A clarifying question offered the pre-2024 transfer first; the one-time social insurance payment
        # answered the second, asked about its fees ("rút tiền" read as a fee).
        ("ông tôi mất để lại đất muốn sang tên cho bố", "2.001406"),
        ("bố mất rồi rút tiền bảo hiểm xã hội được không", "2.000821"),
        ("nộp phạt vi phạm giao thông online", "1.004652"),  # called off-topic
        ("xin giấy phép khai thác cát sông", "1.014257"),  # the fishing licence answered it at 0.80
        ("đăng ký hoạt động karaoke", "1.001029"),  # "đăng ký hoạt động" outweighed "karaoke": not answered
        ("xin giấy chứng nhận không tiền án", "3.000333"),  # asked back with a security licence first
        # Called off-topic: legal aid, the environmental impact assessment, planning information, fire safety.
        ("xin trợ giúp pháp lý cho người nghèo", "2.000829"),
        ("thủ tục đánh giá tác động môi trường cho dự án", "1.010733"),  # then its works' acceptance at 0.86
        ("kiểm tra đất nhà tôi có dính quy hoạch không", "1.014159"),
        ("thẩm duyệt pccc", "1.003426"),
        ("đi đăng kiểm ô tô cần mang gì", "1.005103"),  # not answered
        # Wrong answers: the first identity card (0.90), a building permit (0.83).
        ("cấp đổi căn cước gắn chip sang căn cước mới", "2.001195"),
        ("hàng xóm xây tường lấn sang đất nhà tôi", "1.012812"),
        # Wrong answers: an animal quarantine certificate for shows (0.52), the marital status certificate (0.53).
        ("xin phép tổ chức đêm ca nhạc ở sân vận động", "1.009397"),
        ("so yeu ly lich xin xac nhan o dau", "2.000884"),  # a signature's certification
        ("thay đổi người đại diện theo pháp luật công ty", "2.002010"),  # called off-topic
        ("ket hon voi nguoi trung quoc o bien gioi", "1.000094"),  # a border pass at 0.87
        ("dang ky nghia vu quan su lan dau can giay to gi", "1.013133"),  # 1.001821 is its former code
        # "nhập khẩu" said for "nhập hộ khẩu": asked back with the permanent residence and vehicle imports.
        ("bo me o que muon nhap khau ve nha con o thanh pho", "1.004222"),
        ("xin giay phep dao duong de lap ong nuoc", "1.013061"),  # a driving school's licence first
        ("dang ky hop tac xa nong nghiep", "1.005280"),  # its long name lost to the cooperative's other steps
        # Called off-topic: an offshore fishing trip's support, an investment's approval, a rice field's crop.
        ("ho tro dau cho ngu dan di bien xa", "1.011801"),
        ("xin chu truong dau tu du an", "1.009645"),
        ("chuyen doi dat lua sang trong cay an qua", "1.008004"),
        ("van chuyen go rung trong can giay gi", "1.000045"),  # called off-topic
        ("cap lai bang tot nghiep thpt bi mat", "1.005092"),  # the exam's registration at 0.51
        # A "(cấp Tỉnh)" name that also ended in its own code was no level variant of the ministry's; an
        # everyday name of the medium-voltage connection ("… cho xưởng sản xuất") answered at 0.53.
        ("xin giay phep moi truong cho xuong san xuat", "1.010727"),
        ("cap phu hieu xe khach", "2.002288"),  # called off-topic
        ("le phi chung thuc mot trang", "2.000815"),  # declined
        ("nhan cha cho con sau khi da lam khai sinh", "1.001022"),  # the birth registration at 0.54
        ("tau ca cua toi muon chuyen nhuong cho nguoi khac", "1.003650"),  # declined
        ("cap phep bien quang cao", "1.004650"),  # declined
        ("hang xom xay nha lan chiem dat thi lam sao", "1.012812"),  # a building permit at 0.73
        ("xin phep kinh doanh nha nghi", "2.001478"),  # declined
        ("cap chung chi hanh nghe thu y", "2.001064"),  # declined (the ministry's and the reissues split it)
        ("bac nam nay 75 tuoi roi co duoc huong tien gi khong", "1.012823"),  # called off-topic
        ("nha toi co 2 so do muon gop lai thanh 1", "1.012784"),  # a transfer's certificate at 0.62
        ("me toi 80 tuoi co duoc nha nuoc cho tien khong", "1.001776"),  # called off-topic
        ("chuyen noi kham chua benh ban dau", "1.002759"),  # called off-topic
        ("tre mo coi duoc nha nuoc ho tro gi", "1.001776"),  # called off-topic
        ("cap ma so thue ca nhan", "1.010241"),  # a change of the tax registration at 0.68
        ("chung thuc bang dai hoc de nop xin viec", "2.000815"),  # a degree from abroad's recognition at 0.69
        ("mien hoc phi cho con thuong binh", "1.005144"),  # the certificate of a merit person's relative at 0.55
        ("mien hoc phi cho con bo doi", "1.002610"),  # the general fee exemption at 0.82
        ("cho con di hoc mam non ngoai cong lap duoc ho tro gi", "1.005144"),  # called off-topic
        ("sổ đỏ bị mối ăn mất một góc", "1.012783"),  # a project's land certificate at 0.64
        ("gộp sổ đỏ", "1.012784"),  # a certificate's exchange at 0.84
        ("đăng ký trang trại nuôi tôm", "1.004692"),  # a support for high-tech shrimp farming at 0.53
        ("xin xac nhan noi o hien tai", "1.010041"),  # asked back, an identity number's confirmation first
        ("ho chieu bi hong", "1.001456"),  # asked back with driving licences
        ("xin quoc tich viet nam", "2.002039"),  # asked back, the renunciation first
        ("xin giay phep ban thuoc bao ve thuc vat", "1.004363"),  # declined
        ("nguoi ngheo duoc luat su giup mien phi khong", "2.000829"),  # called off-topic
        ("the chap xe may vay ngan hang", "1.011435"),  # a ship's mortgage at 0.79 ("đăng ký biện pháp bảo đảm")
        ("cap giay phep lien hoan van nghe", "1.009398"),  # asked back with cross-border transport permits
        ("xin giay phep thanh lap hoi", "2.001481"),  # asked back with a publisher's licence ("hoi" also asks)
        ("lam lai bang tot nghiep dai hoc bi sai ten", "2.001914"),  # a copy from the register at 0.56
        ("đóng mã số thuế hộ kinh doanh", "1.001266"),  # the household business's registration at 0.82
        ("bà tôi 85 tuổi có được trợ cấp hàng tháng không", "1.001776"),  # the allowance for 75 to 80 at 0.77
        ("làm giấy ủy quyền", "2.000884"),  # the land certificate for a project's buyer at 0.66
        ("người lao động nghỉ việc có được trợ cấp không", "1.001978"),  # an occupational disease's at 0.75
        ("giấy chứng nhận nghỉ việc hưởng bảo hiểm xã hội", "1.001667"),  # the lump-sum withdrawal at 0.89
        # A degree's correction at 0.64, pulled by its everyday name "… bị sai tên, sai ngày sinh".
        ("ừ thì cái giấy khai sinh của tôi bị sai ngày sinh giờ sửa thế nào", "1.004859"),
        ("mai táng phí thương binh", "2.002622"),  # a veteran's funeral allowance at 0.60
        ("mở phòng tập gym cần giấy phép gì", "1.005163"),  # a clinic's licence at 0.82
        # Said on the phone: the land certificate's reissue ("Cấp lại Giấy chứng nhận do bị mất") answered it,
        # since "làm lại" asked for "cấp lại" and not for "đăng ký lại".
        (
            "dạ alo tổng đài ơi tôi muốn hỏi về việc làm lại giấy khai sinh cho mẹ tôi năm nay bảy mươi tuổi bị mất",
            "1.004884",
        ),
        # "ô tô" folds into asking words ("ở", "tờ"): a ship's mortgage at 0.82, its name holding every other word.
        ("đăng ký thế chấp ô tô", "1.011435"),
        # The papers to bring named the procedure: the birth registration at 0.73, the household's at 0.58.
        ("lam ho chieu co can mang giay khai sinh khong", "1.001456"),
        ("nhập khẩu cho con có cần mang giấy khai sinh bản chính không", "1.004222"),
        ("hàng xóm lấn chiếm đất nhà tôi", "1.012812"),
        ("ông ngoại 78 tuổi có được trợ cấp không", "1.012823"),  # the unemployment benefit at 0.79
        ("ho tro ngu dan bam bien", "1.011801"),  # "bấm biển" (a number plate): the vehicle's registration
        ("tam vang di lam xa", "1.003677"),  # asked back, military service's temporary absence first
        ("doi ten dem", "1.004859"),  # declined (a company's change of name at 0.06)
        ("xin trich luc khai tu", "2.000635"),  # a copy of the extract, not the death's registration
        ("người khuyết tật có được giảm học phí không", "1.005144"),  # the disability certificate at 0.80
        ("xe hết hạn đăng kiểm phải làm sao", "1.005103"),  # asked back with a fishing vessel's certificate
        ("làm cái hộ chiếu mất mấy ngày rứa", "1.001456"),  # asked back with the lost passport's report first
        ("thẻ căn cước gắn chip bị lỗi", "2.001195"),  # a first card at 0.85
        ("nhà tôi khoan giếng có phải đăng ký không", "1.001662"),  # declined
        # A lost land certificate named in full: the certificate's exchange (the reissue's name says no more than
        # "Giấy chứng nhận").
        ("mất giấy chứng nhận quyền sử dụng đất nông nghiệp", "1.012786"),
        ("mất sổ đỏ đất nông nghiệp", "1.012786"),
        ("ong toi 65 tuoi ho ngheo co duoc tro cap khong", "1.001776"),  # asked back, the jobless benefit first
        ("đất nhà tôi bị người khác chiếm thì kiện ở đâu", "1.012812"),  # called off-topic
        ("con toi bi sai ten tren giay khai sinh muon sua", "1.004859"),  # a degree's correction at 0.53
        ("muốn làm giấy phép bán hàng ăn vỉa hè", "1.013274"),  # a pavement's repair works at 0.91
        ("căn cước bị sai ngày sinh", "2.001195"),  # the card's reissue at 0.88
        ("giấy chứng sinh bị mất làm sao khai sinh", "1.001193"),  # the birth registered again at 0.96
        ("cấp lại bằng tốt nghiệp thpt bị rách", "1.005092"),  # the exam's registration at 0.79
        # The first registration ranked first, but its "lần đầu" was taken for a special case: the one while away.
        ("con em muốn đi nghĩa vụ quân sự cần làm gì", "1.013133"),
        ("lam giay uy quyen nhan luong huu thay", "1.001601"),  # asked back, a signature's certification first
        ("tro cap cho tre em duoi 3 tuoi ho ngheo", "1.001776"),  # a newborn's combined registration at 0.90
        ("cap phep xay dung nha tam", "1.009122"),  # ranked first, answered with the ordinary permit
        ("cap phep hoat dong phong tap gym", "1.005163"),  # a clinic's licence at 0.78
    ],
)
def test_everyday_phrasings_reach_the_procedure_they_name(assistant: Assistant, question: str, code: str) -> None:
    reply = assistant.ask(question)
    assert reply.kind == "answer" and reply.procedure_code == code, (reply.kind, reply.procedure_name)


def test_the_elderly_named_beside_another_procedure_do_not_draw_their_allowance(assistant: Assistant) -> None:
    """"người già" once also added the allowance's words ("trợ cấp xã hội"): a signature's certification for an
    old person who cannot write was answered with the elderly's allowance at 0.95."""
    reply = assistant.ask("chứng thực chữ ký người già không biết chữ")
    assert not (reply.kind == "answer" and reply.procedure_code in {"1.012823", "1.001776"}), reply.text


def test_a_purpose_shared_with_an_everyday_name_does_not_answer_for_that_procedure(assistant: Assistant) -> None:
    """An income certificate for a bank loan is not the marital-status certificate, though people get one
    of those for bank loans too (an everyday name that said so answered this at confidence 0.87)."""
    reply = assistant.ask("xin xác nhận thu nhập để vay ngân hàng")
    assert not (reply.kind == "answer" and reply.procedure_code == "1.004873"), reply.text
    assert reply.kind in {"clarify", "abstain"}, reply.kind


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("làm sổ đỏ lần đầu cần giấy tờ gì", "Cấp sổ đỏ"),
        ("làm căn cước cho con dưới 14 tuổi", "dưới 14 tuổi"),
        ("sang tên sổ đỏ cho con", "đăng ký biến động"),
        ("sang ten xe may cu", "Sang tên xe"),
        ("xin hoãn nghĩa vụ quân sự vì đang học đại học", "Tạm hoãn gọi nhập ngũ"),
        ("làm hồ sơ hưởng lương hưu", "15 năm"),
        ("xin giay xac nhan ho ngheo", "hộ nghèo"),
        ("chuyen dat vuon len tho cu het bao nhieu tien", "lên thổ cư"),
        ("chuyển đổi mục đích sử dụng đất", "lên thổ cư"),
        ("chuyen muc dich su dung dat tu dat vuon sang dat o", "lên thổ cư"),  # asked back with the no-permit one
        ("cha me cho con dat thi lam thu tuc gi", "đăng ký biến động"),  # "nhận cha, mẹ, con" at 0.76
        ("sang tên sổ đỏ đất thừa kế", "văn bản khai nhận"),  # a transfer made before 2024 at 0.73
        ("cấp giấy phép lao động cho người nước ngoài", "tối đa 02 năm"),
        ("mở nhà thuốc cần giấy tờ gì", "Sở Y tế"),
        ("hỗ trợ người có công sửa nhà", "cải thiện nhà ở"),
        ("đất không có giấy tờ gì có làm sổ được không", "Điều 138"),  # called off-topic
    ],
)
def test_a_case_the_catalogue_lacks_is_not_answered_with_its_sibling(
    assistant: Assistant, question: str, topic: str
) -> None:
    """The land questions went to the transfer of land made before 2024, the child's card to the card from
    14 years on, the vehicle was asked back with land procedures, the deferral with the registration
    for military service, the pension with moving a pension to another province, the poor household
    certificate with emergency aid for the gravely ill, a change to residential land with the change that
    needs no permission, a work permit with the reissue of a certificate that none is needed, a pharmacy was
    called off-topic and housing support for people with merit got the building permit for repairs."""
    reply = assistant.ask(question)
    assert reply.kind == "guide" and topic in reply.text, (reply.kind, reply.text)
    # Says so, and where to ask: the public service hotline, or social insurance's for the pension.
    assert "chưa có" in reply.text and ("1800 1096" in reply.text or "1900 9068" in reply.text)
    assert assistant.store.unanswered(1)[0].question == question  # staff see the missing procedure asked for


def test_a_late_dossier_gets_the_apology_and_a_new_date_not_an_off_topic_refusal(assistant: Assistant) -> None:
    reply = assistant.ask("tre hen tra ket qua thi sao")
    assert reply.kind == "guide", (reply.kind, reply.text)
    assert "văn bản xin lỗi" in reply.text and "ngày hẹn trả kết quả mới" in reply.text
    assert "tra cứu hồ sơ" in reply.text  # and how to look the dossier up
    # Not answered: where to complain is in the guide.
    reply = assistant.ask("toi muon khieu nai vi ho so bi tre hen")
    assert reply.kind == "guide" and "phản ánh, kiến nghị" in reply.text, (reply.kind, reply.text)


def test_the_criminal_record_extract_is_answered_from_the_detailed_record(assistant: Assistant) -> None:
    """The portal's code 3.000333 answered with "no details" while the hand-written record sat under
    the former code 2.000488."""
    reply = assistant.ask("xin lý lịch tư pháp ở đâu")
    assert (reply.kind, reply.procedure_code) == ("answer", "3.000333"), (reply.kind, reply.text)
    assert "Sở Tư pháp" in reply.text


def test_the_same_procedure_at_several_levels_is_answered_from_the_detailed_record(assistant: Assistant) -> None:
    """"mất CCCD làm lại" ranked the district's reissue (no details, no district level since July 2025)
    just above the province's, and was asked back between the reissue, the exchange and the first card."""
    reply = assistant.ask("mat cccd lam lai het bao nhieu tien")
    assert (reply.kind, reply.procedure_code) == ("answer", "2.001194"), (reply.kind, reply.text)
    assert "70.000 đồng" in reply.text
    # The central variant carried everyday names too, and ranked first: it has none now.
    reply = assistant.ask("dạ vâng tôi muốn làm lại cái căn cước bị mất")
    assert (reply.kind, reply.procedure_code) == ("answer", "2.001194"), (reply.kind, reply.text)


@pytest.mark.parametrize(
    ("question", "other_age"),
    [
        # The birth registration with a health insurance card for children under 6 answered them (0.95, 0.91).
        ("con 8 tuổi làm thẻ bảo hiểm y tế", "2.002621"),
        ("làm thẻ bhyt cho người trên 80 tuổi", "2.002621"),
    ],
)
def test_a_procedure_for_another_age_comes_after_those_for_the_age_asked(
    assistant: Assistant, question: str, other_age: str
) -> None:
    candidates = assistant.retriever.search(question, k=1000).candidates
    fitting = [c for c in candidates if c.probability > 0]
    assert candidates[: len(fitting)] == fitting  # each name for another age after them, with no probability
    assert other_age in [c.procedure.code for c in candidates[len(fitting) :]]
    assert assistant.ask(question).procedure_code != other_age


def test_a_name_listing_several_groups_limits_the_age_of_its_group_only(assistant: Assistant) -> None:
    """The allowance "cho người cao tuổi từ đủ 75 tuổi đến 80 tuổi …; Người mắc bệnh ung thư …" is also for a
    cancer patient of 65, but not for a mother of 85 (it answered her, before the allowance for the others)."""
    reply = assistant.ask("mẹ tôi 65 tuổi bị ung thư chạy thận có được trợ cấp không")
    assert (reply.kind, reply.procedure_code) == ("answer", "1.012823"), reply.text
    reply = assistant.ask("mẹ tôi 85 tuổi có được trợ cấp không")
    assert (reply.kind, reply.procedure_code) == ("answer", "1.001776"), reply.text


def test_a_pensioners_death_leads_to_the_death_registration_with_the_survivors_allowance(assistant: Assistant) -> None:
    """Moving a pension to another area answered it (0.60): its name says "đang hưởng lương hưu"."""
    reply = assistant.ask("bo toi dang huong luong huu moi mat thi lam gi")
    offered = [reply.procedure_code] if reply.kind == "answer" else [choice.code for choice in reply.choices]
    assert offered[:1] == ["2.002622"], (reply.kind, reply.text)


def test_asking_back_offers_one_choice_per_procedure_whatever_its_level(assistant: Assistant) -> None:
    """"làm căn cước" once offered "cấp lại" at the province and at the ministry, and not the ordinary card
    (it is answered with the ordinary card now, see the next test; so is "thẻ căn cước")."""
    reply = assistant.ask("căn cước công dân")
    assert reply.kind == "clarify", reply.kind
    names = [choice.name.split(" (")[0] for choice in reply.choices]
    assert len(set(names)) == len(names) == 3, names
    assert reply.choices[0].code == "2.000200", names  # the ordinary card first


@pytest.mark.parametrize(
    ("question", "code", "section"),
    [
        # Asked back: the registration combined with a parent's recognition is no special case by its name.
        ("làm giấy khai sinh có mất tiền không", "1.001193", "fees"),
        ("tam tru bn ngay thi co", "1.004194", "overview"),  # "bao nhiêu … ngày": the overview tells both
    ],
)
def test_a_family_name_alone_gets_the_procedure_citizens_use_most(
    assistant: Assistant, question: str, code: str, section: str
) -> None:
    reply = assistant.ask(question)
    assert (reply.kind, reply.procedure_code, reply.section) == ("answer", code, section), reply.text


@pytest.mark.parametrize(
    ("question", "section", "quoted"),
    [
        ("làm căn cước cần giấy tờ gì", "documents", "Cơ sở dữ liệu quốc gia về dân cư"),
        ("lam cccd mat bao lau", "time", "07 ngày làm việc"),
        ("nop ho so lam cccd truc tuyen duoc khong", "where", "Công an xã"),
        ("lam cccd", "overview", "07 ngày làm việc"),
        # Once asked back: the card's reissue and exchange split the ranking, but neither is asked for.
        ("làm căn cước", "overview", "07 ngày làm việc"),
        ("làm căn cước có mất phí không", "fees", "không thu lệ phí"),
    ],
)
def test_a_question_naming_no_special_case_gets_the_ordinary_procedure(
    assistant: Assistant, question: str, section: str, quoted: str
) -> None:
    """These got the card's reissue, ranked first by the portal's questions filed under it; the documents
    question then said the database knew of none (the card needs none: the steps say what to give). Near
    the confidence threshold they may be asked back instead, the ordinary card first."""
    reply = assistant.ask(question)
    if reply.kind == "clarify":
        assert reply.choices[0].code == "2.000200", reply.choices
    else:
        assert (reply.kind, reply.procedure_code, reply.section) == ("answer", "2.000200", section), reply.text
        assert quoted in reply.text


def test_a_first_issue_is_the_ordinary_case_when_the_family_has_no_other(assistant: Assistant) -> None:
    """The reissue ranked first; the first issue ("cấp lần đầu") is the family's only other case."""
    reply = assistant.ask("cấp giấy chứng nhận đăng ký thành lập cơ sở trợ giúp phòng chống bạo lực gia đình")
    assert (reply.kind, reply.procedure_code) == ("answer", "1.012080"), reply.procedure_name


@pytest.mark.parametrize("question", ["cấp lại sổ đỏ", "cap lai so do"])
def test_the_special_case_asked_for_is_answered_rather_than_another(assistant: Assistant, question: str) -> None:
    """The land certificate's exchange ("cấp đổi") ranked above its reissue ("cấp lại"), whose everyday name
    the question is word for word, and was answered."""
    reply = assistant.ask(question)
    assert (reply.kind, reply.procedure_code) == ("answer", "1.012786"), (reply.kind, reply.text)


def test_the_one_special_case_asked_for_is_answered_rather_than_the_ordinary_case(assistant: Assistant) -> None:
    """The plain birth registration ranked first; the question asks for its foreign case, a close second."""
    reply = assistant.ask("con sinh o ben Trung Quoc, bo la nguoi Trung Quoc thi khai sinh cho chau o dau")
    assert (reply.kind, reply.procedure_code) == ("answer", "2.000528"), (reply.kind, reply.text)


def test_a_procedure_split_between_its_levels_is_answered_with_confidence(assistant: Assistant) -> None:
    """Its central and provincial variants shared the ranking, and the confidence of either alone was too low
    to answer; counted together (it is one procedure to the citizen), they answer."""
    result = assistant.search("giay xac nhan so dinh danh ca nhan lay o dau")
    assert len(result.level_variants()) > 1, [c.procedure.name for c in result.candidates[:3]]
    reply = assistant.reply(result, log_unanswered=False)
    assert reply.kind == "answer" and reply.procedure_name.startswith("Cấp xác nhận số chứng minh nhân dân"), reply.text


def test_a_medical_practising_licence_is_not_the_securities_one(assistant: Assistant) -> None:
    """"hành nghề y": the one-letter word weighs little, and the securities certificate was answered at 0.50."""
    ranked = assistant.search("xin cap chung chi hanh nghe y").candidates
    assert ranked[0].procedure.code == "1.013614", [c.procedure.name for c in ranked[:3]]


@pytest.mark.parametrize(
    "question",
    [
        "ủy ban xã ở đâu",  # the words are an everyday name's place, not the marital status certificate's name
        "đăng ký chữ ký số",  # a digital signature provider's registration: no procedure citizens here use
    ],
)
def test_only_a_used_procedure_named_in_full_is_taken_for_the_ordinary_case(
    assistant: Assistant, question: str
) -> None:
    assert assistant.ask(question).kind != "answer"


@pytest.mark.parametrize("question", ["ba noi toi mat roi thi lam giay to gi", "bà tôi qua đời làm giấy tờ gì"])
def test_a_relatives_death_is_offered_the_death_registration(assistant: Assistant, question: str) -> None:
    """Called off-topic: the relative's death was no administrative word."""
    reply = assistant.ask(question)
    offered = [reply.procedure_code] if reply.kind == "answer" else [c.code for c in reply.choices[:1]]
    assert offered == ["1.000656"], (reply.kind, reply.procedure_name, reply.choices)


def test_the_peoples_committee_one_goes_to_does_not_name_the_procedure(assistant: Assistant) -> None:
    """"tại ubnd xã" matched the names that say which committee decides ("Thẩm định dự án … do UBND tỉnh"),
    and those were offered as choices."""
    ranked = assistant.search("chung thuc chu ky tai ubnd xa").candidates[:3]
    assert ranked[0].procedure.code == "2.000884", [c.procedure.name for c in ranked]
    assert not any("thẩm định" in c.procedure.name.lower() for c in ranked), [c.procedure.name for c in ranked]


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("lam can cuoc o huyen ly son", "2.000200"),  # declined; "ở huyện" then gave the district's reissue
        ("dang ky tau ca o huyen ly son", "1.003650"),  # asked back with the removal and the reissue
        ("dang ky khai tu tai phuong nghia chanh", "1.000656"),
    ],
)
def test_the_place_a_citizen_lives_in_does_not_name_the_procedure(
    assistant: Assistant, question: str, code: str
) -> None:
    reply = assistant.ask(question)
    assert reply.kind == "answer" and reply.procedure_code == code, (reply.kind, reply.procedure_name)


@pytest.mark.parametrize(
    ("question", "wanted", "wrong"),
    [
        # Searched whole, these got the pre-2024 transfer and the identity card from 14 years on.
        ("làm sổ đỏ lần đầu và tách thửa cho con", ["Cấp sổ đỏ", "mã 1.012784"], "mã 1.012785"),
        ("đăng ký khai sinh và làm căn cước cho bé 3 tuổi", ["mã 1.001193", "dưới 14 tuổi"], "mã 2.000200"),
    ],
)
def test_a_question_about_a_missing_case_and_a_procedure_gets_the_guide_and_the_answer(
    assistant: Assistant, question: str, wanted: list[str], wrong: str
) -> None:
    text = assistant.ask(question).text
    assert all(w in text for w in wanted) and wrong not in text, text
