"""The Rasa dialogue for dossier status and fees, end to end.

Uses the Rasa environment (.venv-rasa) and the model that `make setup` trains into
var/rasa/models; nothing is trained here. A missing one fails with how to get it.

- `rasa data validate` on the training data and domain;
- `rasa test core --e2e` on nlu_data/tests/test_stories.yml (NLU and policies);
- the same stories played against a live stack started here on free local ports:
  the main app (`citizenbot serve`, on a copy of the knowledge store with the
  dossier fixture imported, clock fixed), the rasa-sdk action server and the
  Rasa server; each story's intents, actions, slots and replies are checked;
- the actions' polite reply when the main app cannot be reached;
- intent and entity F1 on the held-out NLU split (bench/nlu_quality.py).
"""

from __future__ import annotations

import json
import os
import re
import sys
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from processes import (
    RASA_BIN,
    RASA_MODEL,
    ROOT,
    free_port,
    rasa_env,
    require_rasa,
    run,
    running_stack,
    start_action_server,
)

pytestmark = pytest.mark.slow

TEST_STORIES = ROOT / "nlu_data" / "tests" / "test_stories.yml"

UNAVAILABLE = "Hệ thống tạm thời gián đoạn"
# Replies the validation action sends: data validation cannot see them used.
UTTERANCES_USED_BY_ACTIONS = {
    "utter_ask_dossier_code",
    "utter_ask_check_digits",
    "utter_invalid_dossier_code",
    "utter_invalid_check_digits",
    "utter_nothing_to_choose",
    "utter_choose_in_range",
}
# What the citizen must be told in each test story (all of it, in the story's replies).
EXPECTED_REPLIES: dict[str, list[str]] = {
    "status happy path in several messages": ["mã hồ sơ", "4 số cuối", "đã có kết quả, đang chờ trả", "Ngô T. H."],
    "code and check in one message without diacritics": ["đang được xử lý", "hẹn trả kết quả ngày 14/12/2026"],
    "spaced code and check digits said as words": ["được gia hạn", "chưa có kết quả", "27/11/2026", "xin lỗi"],
    "wrong check digits": ["Không tìm thấy hồ sơ khớp", "Bạn còn 4 lần thử"],
    "unknown dossier code": ["Không tìm thấy hồ sơ khớp", "Bạn còn 4 lần thử"],
    "lockout after five failed checks": ["Bạn còn 1 lần thử", "tạm khóa", "15 phút"],
    "invalid code is asked again": ["chưa đúng định dạng", "đang chờ cán bộ kiểm tra và tiếp nhận"],
    "fee question in the middle of the form": ["tạm trú", "đồng", "mã hồ sơ", "bổ sung giấy tờ"],
    "procedure question in the middle of the form": ["hộ kinh doanh", "4 số cuối", "tạm dừng xử lý"],
    "the citizen does not have the code": ["Giấy tiếp nhận hồ sơ và hẹn trả kết quả"],
    "handover in the middle of the form": ["1800 1096", "Bộ phận Một cửa"],
    "handover request": ["1800 1096", "Bộ phận Một cửa"],
    "out of scope": ["Xin chào", "chỉ hỗ trợ", "Chúc bạn một ngày tốt lành"],
    "fee with a clarifying question, then online, then processing time": [
        "Bạn muốn hỏi về thủ tục nào",
        "chứng thực",
        "đồng",
        "trực tuyến",
    ],
    "fee for copies submitted online": ["trích lục", "× 3 = 24.000 đồng"],
    "fee exemption": ["miễn"],
    "free-text procedure question goes to the knowledge core": ["tạm trú"],
    "status wording: registered": ["đang chờ cán bộ kiểm tra và tiếp nhận"],
    "status wording: received": ["đã được tiếp nhận ngày 20/11/2026", "hẹn trả kết quả ngày 04/12/2026"],
    "status wording: processing": ["đang được xử lý"],
    "status wording: supplement_requested": ["đang chờ bạn bổ sung giấy tờ"],
    "status wording: payment_requested": ["nghĩa vụ tài chính"],
    "status wording: paused": ["đang tạm dừng xử lý, chưa có kết quả", "Lý do:"],
    "status wording: extended": ["được gia hạn", "chưa có kết quả", "Ngày hẹn trả mới: 27/11/2026"],
    "status wording: result_ready": ["đã có kết quả, đang chờ trả", "Bạn nhận kết quả tại"],
    "status wording: result_ready by post": ["đã có kết quả, đang chờ trả", "bưu chính"],
    "status wording: delivered": ["đã trả kết quả ngày 04/11/2026"],
    "status wording: returned": ["đã bị trả lại, không được giải quyết", "Lý do:"],
    "status wording: withdrawn": ["đã được rút"],
    "status wording: overdue": ["quá hạn trả kết quả", "chưa có kết quả", "xin lỗi"],
}
# A paused, extended or late dossier is never described as finished.
NOT_DONE_STORIES = ("status wording: paused", "status wording: extended", "status wording: overdue")
DONE_WORDS = ("đã có kết quả", "đã trả kết quả")


@pytest.fixture(scope="module")
def rasa_model() -> Path:
    require_rasa()
    return RASA_MODEL


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dialogue")


@pytest.fixture(scope="module")
def rasa_server(rasa_model: Path, workdir: Path) -> Iterator[str]:
    """A stack of this module's own: the lockout story must not lock codes other tests use."""
    with running_stack(workdir) as stack:
        yield stack.rasa


# ---- data validation and rasa test --------------------------------------------------


def test_training_data_validates(rasa_model: Path, workdir: Path) -> None:
    result = run(
        [
            str(RASA_BIN / "rasa"),
            *"data validate --config config.yml --domain nlu_data/domain.yml".split(),
            *"--data nlu_data/train".split(),
        ],
        rasa_env(workdir),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    # Rasa's own data warnings only: every one must be an utterance the actions send.
    warnings = [line for line in output.splitlines() if "rasa/shared/utils/io.py" in line and "Warning" in line]
    unexpected = [w for w in warnings if not any(f"'{u}' is not used" in w for u in UTTERANCES_USED_BY_ACTIONS)]
    assert not unexpected, "\n".join(unexpected)
    assert " ERROR " not in output, output[-4000:]


def test_test_stories_pass_rasa_test(rasa_model: Path, workdir: Path) -> None:
    out = workdir / "rasa-test-core"
    command = [str(RASA_BIN / "rasa"), "test", "core", "--e2e", "--no-plot", "--model", str(rasa_model)]
    result = run([*command, "--stories", str(TEST_STORIES), "--out", str(out)], rasa_env(workdir))
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    failed = (out / "failed_test_stories.yml").read_text("utf-8")
    assert not (yaml.safe_load(failed) or {}).get("stories"), f"Failed test stories:\n{failed}"
    report = json.loads((out / "story_report.json").read_text("utf-8"))
    stories = len(yaml.safe_load(TEST_STORIES.read_text("utf-8"))["stories"])
    assert report["conversation_accuracy"]["total"] == stories
    assert report["conversation_accuracy"]["correct"] == stories


# ---- the live stack -----------------------------------------------------------------


@dataclass
class Turn:
    text: str
    intent: str
    actions: list[str] = field(default_factory=list)
    slots: list[tuple[str, Any]] = field(default_factory=list)


ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def story_turns(steps: list[dict[str, Any]]) -> list[Turn]:
    turns: list[Turn] = []
    for step in steps:
        if "user" in step:  # what the citizen types: the entity annotations removed
            turns.append(Turn(ANNOTATION.sub(r"\1", step["user"].strip()), step["intent"]))
        elif "action" in step:
            turns[-1].actions.append(step["action"])
        elif "slot_was_set" in step:
            turns[-1].slots += [next(iter(s.items())) for s in step["slot_was_set"]]
    return turns


def tracker_turns(events: list[dict[str, Any]]) -> list[Turn]:
    turns: list[Turn] = []
    for event in events:
        if event["event"] == "user":
            turns.append(Turn(event["text"], event["parse_data"]["intent"]["name"]))
        elif turns and event["event"] == "action" and event["name"] not in {"action_listen", "action_extract_slots"}:
            turns[-1].actions.append(event["name"])
        elif turns and event["event"] == "slot":
            turns[-1].slots.append((event["name"], event["value"]))
    return turns


def play(rasa: str, steps: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Plays a story in a new conversation: (differences from the story, the bot's replies)."""
    sender = f"test-{uuid.uuid4()}"
    replies: list[str] = []
    expected = story_turns(steps)
    for turn in expected:
        message = {"sender": sender, "message": turn.text}
        response = httpx.post(f"{rasa}/webhooks/rest/webhook", json=message, timeout=120)
        response.raise_for_status()
        replies += [m.get("text", "") for m in response.json()]
    tracker = httpx.get(f"{rasa}/conversations/{sender}/tracker", timeout=30).json()
    actual = tracker_turns(tracker["events"])
    problems = []
    if len(actual) != len(expected):
        return [f"{len(actual)} user turns in the tracker, {len(expected)} in the story"], replies
    for want, got in zip(expected, actual, strict=True):
        where = f"after “{want.text}”"
        if got.intent != want.intent:
            problems.append(f"{where}: intent {got.intent}, expected {want.intent}")
        if got.actions != want.actions:
            problems.append(f"{where}: actions {got.actions}, expected {want.actions}")
        missing = [(name, value) for name, value in want.slots if (name, value) not in got.slots]
        problems += [f"{where}: slot {name}={value!r} not set" for name, value in missing]
    return problems, replies


def test_test_stories_against_the_live_stack(rasa_server: str, workdir: Path) -> None:
    stories = yaml.safe_load(TEST_STORIES.read_text("utf-8"))["stories"]
    transcript = workdir / "transcripts.txt"  # every reply, to read when a story fails
    assert set(EXPECTED_REPLIES) == {s["story"] for s in stories}, "every test story says what the citizen is told"
    failures: list[str] = []
    final_replies: dict[str, str] = {}
    for story in stories:
        name = story["story"]
        problems, replies = play(rasa_server, story["steps"])
        told = "\n".join(replies)
        with transcript.open("a", encoding="utf-8") as out:
            out.write(f"## {name}\n{told}\n\n")
        problems += [f"reply lacks “{want}”" for want in EXPECTED_REPLIES[name] if want not in told]
        if UNAVAILABLE in told:
            problems.append("an action could not reach the main app")
        if name in NOT_DONE_STORIES:
            problems += [f"says “{w}”" for w in DONE_WORDS if w in replies[-1]]
        if problems:
            failures.append(f"{name}:\n  " + "\n  ".join(problems) + "\n  replies:\n    " + "\n    ".join(replies))
        final_replies[name] = replies[-1] if replies else ""
    assert not failures, "\n\n".join(failures) + f"\n\n(all replies: {transcript})"
    # Codes cannot be probed: an unknown code and a wrong check get the same reply.
    assert final_replies["unknown dossier code"] == final_replies["wrong check digits"]


def test_decomposed_unicode_is_understood(rasa_server: str) -> None:
    """Some keyboards send decomposed Vietnamese ("ơ" + combining hook): the pipeline NFC-normalises first."""
    text = unicodedata.normalize("NFD", "hồ sơ 000.00.21.H48-261116-0012 số cuối 3403 đến đâu rồi")
    assert text != unicodedata.normalize("NFC", text)
    message = {"sender": f"test-{uuid.uuid4()}", "message": text}
    response = httpx.post(f"{rasa_server}/webhooks/rest/webhook", json=message, timeout=120)
    assert "đang được xử lý" in "\n".join(m.get("text", "") for m in response.json())


@pytest.mark.parametrize(
    "question",
    [
        "cần hồ sơ gì",
        "thẩm duyệt PCCC cần hồ sơ gì",
        "hồ sơ đề nghị cấp chứng chỉ hành nghề dược",
        "hồ sơ xin trợ cấp người có công",
        "hồ sơ hưởng chế độ tử tuất",
        "ho so cap giay chung nhan du dieu kien an ninh trat tu gom nhung gi",
    ],
)
def test_procedure_questions_that_say_ho_so_are_not_status_lookups(rasa_server: str, question: str) -> None:
    """ "hồ sơ" is also the documents a procedure needs: such questions go to the knowledge base."""
    parsed = httpx.post(f"{rasa_server}/model/parse", json={"text": question}, timeout=60).json()
    assert parsed["intent"]["name"] in {"ask_procedure", "ask_fee", "ask_processing_time"}, parsed["intent"]


@pytest.mark.parametrize(
    "question", ["đánh giá thái độ phục vụ của cán bộ một cửa", "muốn góp ý về cán bộ tiếp nhận hồ sơ của tôi"]
)
def test_feedback_about_staff_is_not_a_handover_request(rasa_server: str, question: str) -> None:
    """Rating or complaining about "cán bộ" is a question for the knowledge base (its feedback guide), not a
    request to talk to one."""
    parsed = httpx.post(f"{rasa_server}/model/parse", json={"text": question}, timeout=60).json()
    assert parsed["intent"]["name"] == "ask_procedure", parsed["intent"]


def test_a_person_is_still_a_handover_request(rasa_server: str) -> None:
    parsed = httpx.post(f"{rasa_server}/model/parse", json={"text": "cho tôi nói chuyện với cán bộ"}, timeout=60).json()
    assert parsed["intent"]["name"] == "request_human", parsed["intent"]


def test_a_status_question_still_opens_the_dossier_form(rasa_server: str) -> None:
    question = "hồ sơ nộp hôm thứ hai của tôi xong chưa"
    parsed = httpx.post(f"{rasa_server}/model/parse", json={"text": question}, timeout=60).json()
    assert parsed["intent"]["name"] == "check_dossier_status", parsed["intent"]


def test_actions_reply_politely_when_the_main_app_is_down(workdir: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    actions = start_action_server(workdir, closed, "action server without main app")
    try:
        webhook = f"{actions.url}/webhook"
        slots = {"dossier_code": "000.00.21.H48-261122-0031", "check_digits": "1201", "procedure_code": None}
        for action, text, intent in (
            ("action_check_dossier_status", "1201", "provide_check_digits"),
            ("action_answer_fee", "lệ phí đăng ký khai sinh bao nhiêu", "ask_fee"),
            ("action_ask_knowledge", "làm tạm trú cần giấy tờ gì", "ask_procedure"),
        ):
            tracker = {
                "sender_id": "offline",
                "slots": slots,
                "latest_message": {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []},
                "events": [],
                "paused": False,
                "followup_action": None,
                "active_loop": {},
                "latest_action_name": "action_listen",
            }
            body = {"next_action": action, "sender_id": "offline", "tracker": tracker, "domain": {}}
            response = httpx.post(webhook, json=body, timeout=60)
            assert response.status_code == 200, response.text
            texts = [r["text"] for r in response.json()["responses"]]
            assert len(texts) == 1 and UNAVAILABLE in texts[0] and "1800 1096" in texts[0], (action, texts)
            assert any(e.get("value") == "unavailable" for e in response.json()["events"]), action
    finally:
        actions.stop()


# ---- NLU quality ---------------------------------------------------------------------


def test_nlu_quality_on_the_held_out_split(rasa_model: Path, workdir: Path) -> None:
    command = [sys.executable, str(ROOT / "bench" / "nlu_quality.py"), "--json", "--model", str(rasa_model)]
    result = run([*command, "--out", str(workdir / "nlu")], {**os.environ})
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    for subset in ("with_diacritics", "without_diacritics"):
        assert figures[subset]["examples"] >= 100 and figures[subset]["entities"] >= 40, figures[subset]
        assert figures[subset]["intent_f1"] >= 0.95, (subset, figures[subset], figures["intent_errors"])
        assert figures[subset]["entity_f1"] >= 0.95, (subset, figures[subset], figures["entity_errors"])
