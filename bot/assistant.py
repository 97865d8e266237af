"""The procedure Q&A core: question in, short cited answer (or an honest 'I don't know') out."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot import answers
from bot.confidence import ConfidenceModel, looks_administrative, off_topic
from bot.embedder import Embedder
from bot.guidance import Guide, GuideBook
from bot.guide_store import GuideStore
from bot.index import SearchIndex
from bot.name_markers import without_case_words, without_markers
from bot.procedure import Procedure, Section
from bot.question_parts import question_parts
from bot.ranking import Ranker
from bot.retriever import Candidate, Retriever, SearchResult
from bot.settings import Settings
from bot.store import LOW_CONFIDENCE, NOT_IN_CATALOGUE, KnowledgeStore
from bot.text import (
    MAX_QUESTION_CHARS,
    asked_text,
    clean,
    fold,
    folded_key,
    looks_english,
    naming_words,
    normalize,
    words,
)

CLARIFY_CHOICES = 3
SHORT_QUESTION_WORDS = 4  # words naming something; a question this short may name a family of procedures
ALL_WORDS = 0.999  # a topic_cover this high: the name holds every word the question names something with
RIVAL_SHARE = 8  # a candidate at least 1/8 as likely as the top one is close to it (a rival, an ordinary case)
FIRST_ISSUE = frozenset({"first_time"})  # the one special case that is also the ordinary one (bot.name_markers)
ONE_MARKER_MISSING = 0.5  # marker_not_in_name when the name lacks one marker the question asks for (bot.retriever)


@dataclass
class Choice:
    code: str
    name: str


@dataclass
class Reply:
    kind: str  # "answer" | "guide" | "clarify" | "abstain" | "out_of_scope" | "invalid"
    text: str
    confidence: float = 0.0
    procedure_code: str | None = None
    procedure_name: str | None = None
    section: str | None = None
    portal_url: str | None = None
    choices: list[Choice] = field(default_factory=list)

    @property
    def abstained(self) -> bool:
        return self.kind in {"abstain", "out_of_scope", "invalid"}


def load_retriever(settings: Settings, embedder: Embedder | None = None, ranker: Ranker | None = None) -> Retriever:
    store = KnowledgeStore(settings.database_url)
    return Retriever(
        SearchIndex.load(settings.index_dir),
        store.procedures(),
        embedder or Embedder(settings.model_dir),
        ranker or Ranker.load(settings.ranker_file),
        settings.provinces,
    )


def _richest(variants: list[Candidate]) -> Candidate:
    """The variant to answer from: of those the ranking finds at least half as likely as the top one (a
    question naming a level leaves the others far behind), the most detailed record, then the most used.
    "mất CCCD làm lại" ranked the district's card reissue first (no district level since July 2025, no
    details) above the province's."""
    top = variants[0].probability
    likely = [c for c in variants if c.probability >= top / 2]
    return max(likely, key=lambda c: (c.procedure.detail.rank, c.procedure.popularity))


def _guide_reply(guides: list[Guide]) -> Reply:
    return Reply("guide", "\n\n".join(guide.text() for guide in guides), 1.0)


def names_no_procedure(normalized_question: str) -> bool:
    """'mất bao lâu?', 'cần giấy tờ gì?', 'bị mất thì làm lại ở đâu?': only words that ask or say which case,
    none naming a procedure."""
    return bool(words(normalized_question)) and not naming_words(without_case_words(normalized_question))


def _readable(question: str) -> bool:
    """Some letters, mostly letters and digits, and mostly Vietnamese/Latin characters: not binary noise or
    punctuation alone. Digits count: "hồ sơ mã 000.00.12.H48-241205-0001 đến đâu rồi" has more digits than letters."""
    text = question.replace(" ", "")
    letters = sum(ch.isalpha() for ch in text)
    alphanumeric = letters + sum(ch.isdigit() for ch in text)
    usual = sum(
        (ch.isascii() and ch.isprintable()) or "\u00c0" <= ch <= "\u024f" or "\u1e00" <= ch <= "\u1eff" for ch in text
    )
    return letters >= 2 and alphanumeric >= 0.5 * len(text) and usual >= 0.8 * len(text)


class Assistant:
    def __init__(
        self,
        store: KnowledgeStore,
        retriever: Retriever,
        confidence: ConfidenceModel,
        helpdesk: str,
        guides: GuideBook | None = None,
    ) -> None:
        self.store = store
        self.retriever = retriever
        self.confidence = confidence
        self.helpdesk = helpdesk
        self.guides = guides or GuideBook([])

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None) -> Assistant:
        store = KnowledgeStore(settings.database_url)
        return cls(
            store,
            load_retriever(settings, embedder),
            ConfidenceModel.load(settings.calibration_file),
            settings.helpdesk,
            GuideStore(store.engine).book(),
        )

    def serve(self, index: SearchIndex, procedures: list[Procedure]) -> None:
        """Put a published index version in service, with the procedures and guides as stored now.
        Each is one attribute assignment, so a question in flight finishes on what it started with."""
        self.guides = GuideStore(self.store.engine).book()
        old = self.retriever
        self.retriever = Retriever(index, procedures, old.embedder, old.ranker, old.provinces)

    def search(self, question: str) -> SearchResult:
        return self.retriever.search(clean(question)[:MAX_QUESTION_CHARS])

    def ask(self, question: str) -> Reply:
        question = clean(question)[:MAX_QUESTION_CHARS]
        if not _readable(question):
            return Reply("invalid", answers.invalid_text())
        if looks_english(question):
            return Reply("invalid", answers.not_vietnamese_text())
        normalized = asked_text(question)
        guides = self.guides.match(normalized)
        if guides:
            self._log_missing_procedure(question, guides)
            return _guide_reply(guides)
        parts = question_parts(normalized)
        part_guides = [self.guides.match(part) for part in parts]
        if any(part_guides):
            guides = [guide for guides in part_guides for guide in guides]
            self._log_missing_procedure(question, guides)
            return self._part_by_part(question, parts, part_guides) or _guide_reply(guides)
        result = self.retriever.search(question)
        # A question in several parts goes to the staff's unanswered queue only if none of its parts is
        # answered; otherwise the parts not answered go there (see _part_by_part).
        reply = self.reply(result, log_unanswered=not parts)
        if reply.kind == "answer":
            return self._with_other_procedures(reply, result, parts)
        if parts and reply.kind in {"clarify", "abstain"}:
            # Searched whole, "làm hộ chiếu và cccd" was only asked back about the card.
            by_part = self._part_by_part(question, parts, [[] for _ in parts])
            if by_part is not None:
                return by_part
            if reply.kind == "abstain":
                self._log_unanswered(result, reply.confidence)
        return reply

    def _log_missing_procedure(self, question: str, guides: list[Guide]) -> None:
        """Log the question for staff when one of its guides stands in for a missing procedure (bot.guidance)."""
        if any(guide.not_in_catalogue for guide in guides):
            self.store.log_unanswered(question, NOT_IN_CATALOGUE, 1.0, [])

    def _part_by_part(self, question: str, parts: list[str], part_guides: list[list[Guide]]) -> Reply | None:
        """A question about several things, answered part by part: a part with a guide ("làm sổ đỏ lần đầu và
        tách thửa": searched whole, it would get that case's wrong sibling) by its guide, any other by its
        procedure when that is answered with confidence. A part the assistant would ask back about adds its
        question and choices after those answers. None when no part is answered; otherwise the parts
        declined are logged for staff, each as asked."""
        replies: list[Reply] = []
        asked_back: Reply | None = None
        declined: list[tuple[SearchResult, float]] = []
        for part, guides in zip(parts, part_guides, strict=True):
            if guides:
                reply = _guide_reply(guides)
            else:
                result = self.retriever.search(part)
                reply = self.reply(result, log_unanswered=False, asked_in=question)
                if reply.kind == "abstain":
                    declined.append((result, reply.confidence))
            if reply.kind in {"guide", "answer"} and all(reply.text != r.text for r in replies):
                replies.append(reply)
            elif reply.kind == "clarify" and reply.choices and asked_back is None:
                asked_back = reply
        if not replies:
            return None
        for result, confidence in declined:
            self._log_unanswered(result, confidence)
        text = "\n\n".join(r.text for r in replies)
        if asked_back is not None:
            return replace(asked_back, text=f"{text}\n\n{asked_back.text}")
        return replace(replies[0], text=text)

    def reply(self, result: SearchResult, log_unanswered: bool = True, asked_in: str | None = None) -> Reply:
        """Decide between answering, asking back and abstaining for a search result; an answer is about
        what ``asked_in`` asks (documents, fees …), by default the searched question itself."""
        section = answers.detect_section(asked_in or result.question)
        confidence = self.confidence.probability(result)
        candidates = result.candidates
        faq = self._faq_match(result)
        if faq is not None:
            return self._answer(faq, section, max(confidence, self.confidence.answer_threshold))
        asks_only = self._only_asks_about(result, section)
        if asks_only and (not candidates or confidence < self.confidence.clarify_threshold):
            # "cần giấy tờ gì?" with nothing to go on: ask for the procedure's name.
            return Reply("clarify", answers.which_procedure_text(section), confidence)
        if not candidates:
            return self._decline(result, confidence, log_unanswered)
        # Asking back is for questions about public administration; anything else not answered
        # with confidence is off-topic ("giá vàng hôm nay" shares a word with "tạm vắng").
        unsure = confidence < self.confidence.answer_threshold
        if unsure and not asks_only and not looks_administrative(result.normalized):
            return self._decline(result, confidence, log_unanswered)
        if confidence < self.confidence.clarify_threshold and not self._names_a_family(result):
            return self._decline(result, confidence, log_unanswered)
        undecided = unsure or self._family_undecided(result)
        if asks_only or (undecided and not self._asks_for_the_ordinary_case(result)):
            return self._clarify(result, confidence)
        return self._answer(
            _richest(result.level_variants(self._case_to_answer(result))).procedure, section, confidence
        )

    def _case_to_answer(self, result: SearchResult) -> Candidate:
        """The candidate to answer with: the top one, unless its name is not the case asked for. A name
        carrying a special case ("cấp lại", "cấp đổi", "xóa" …, see bot.name_markers) that the question does
        not ask for gives way to the case asked for when the question asks for another one (``_asked_case``),
        else to the ordinary case (``_ordinary_case``). The ordinary case gives way to the case asked for when
        the question asks for exactly one ("con sinh ở Trung Quốc … khai sinh": the birth registration with a
        foreign element); a long portal question listing several ("cấp, cấp lại, gia hạn, thu hồi") asks for
        none in particular."""
        top = result.candidates[0]
        missing = top.feature("marker_not_in_name")
        if top.feature("marker_not_asked") == 0:
            ordinary = top.feature("marker_asked") == 0
            return self._asked_case(result) if ordinary and missing == ONE_MARKER_MISSING else top
        if missing > 0:
            return self._asked_case(result)
        if self.retriever.name_markers(top.procedure.code) <= FIRST_ISSUE:
            # A first issue is the ordinary case already: "con em muốn đi nghĩa vụ quân sự" ranked the first
            # registration for military service first and was answered with the one while away ("tạm vắng").
            return top
        return self._ordinary_case(result)

    def _ordinary_case(self, result: SearchResult) -> Candidate:
        """The ordinary case of the top procedure, whose name carries a special case the question asks for
        none of: a name with no special case but a first issue ("cấp lần đầu") that holds every other word of the
        top one's, at least an eighth as likely; else the top one. "làm căn cước cần giấy tờ gì" ranked the
        card's reissue first, pulled up by the portal's questions filed under it ("Nơi nào tiếp nhận hồ sơ làm
        thủ tục cấp, đổi, cấp lại thẻ Căn cước công dân?"); "cấp giấy chứng nhận đăng ký thành lập cơ sở … phòng,
        chống bạo lực gia đình" ranked the reissue above the first issue, the family's only other case."""
        top = result.candidates[0]
        family = {fold(w) for w in naming_words(without_markers(normalize(top.procedure.name_without_level)))}
        ordinary = (
            c
            for c in result.candidates[1:]
            if c.feature("marker_asked") == 0
            and self.retriever.name_markers(c.procedure.code) <= FIRST_ISSUE
            and family <= self.retriever.name_words(c.procedure.code)
            and c.probability >= top.probability / RIVAL_SHARE
        )
        return next(ordinary, top)

    def _asked_case(self, result: SearchResult) -> Candidate:
        """The top candidate, whose name lacks the special case asked for (it carries another, "cấp đổi" for
        "cấp lại", or none), unless a candidate whose name carries the asked one matches the question's words at least
        as well by its name or everyday name, is at least an eighth as likely, and names something the top one's
        name and the question share. "cấp lại sổ đỏ" ranked the land certificate's exchange above its reissue,
        whose everyday name it is word for word; "hộ chiếu cùng lúc được không" (of "làm căn cước và hộ chiếu
        cùng lúc") is about the passport, not a birth registration combined with a parent's recognition."""
        top = result.candidates[0]
        shared = {fold(w) for w in naming_words(result.normalized)} & self.retriever.name_words(top.procedure.code)

        def words_matched(c: Candidate) -> float:
            return max(c.feature("lex_name"), c.feature("lex_alias"))

        asked = (
            c
            for c in result.candidates[1:]
            if c.feature("marker_asked") > 0
            and words_matched(c) >= words_matched(top)
            and c.probability >= top.probability / RIVAL_SHARE
            and (not shared or shared & self.retriever.name_words(c.procedure.code))
        )
        return next(asked, top)

    def _with_other_procedures(self, reply: Reply, result: SearchResult, parts: list[str]) -> Reply:
        """The answer followed by the answers for the other procedures the question names (``parts``,
        see bot.question_parts), each answered with confidence on its own, about what the whole question asks.
        A procedure the answer's joins in one dossier is not answered again ("làm khai sinh và nhập hộ khẩu
        cho con": the joint registration, not that and each of the two)."""
        answered = {reply.procedure_code}
        texts = [reply.text]
        joint = self.procedure(reply.procedure_code or "")
        for part in parts:
            part_reply = self.reply(self.retriever.search(part), log_unanswered=False, asked_in=result.question)
            if part_reply.kind != "answer" or part_reply.procedure_code in answered:
                continue
            part_procedure = self.procedure(part_reply.procedure_code or "")
            if joint and part_procedure and joint.joins(part_procedure):
                continue
            answered.add(part_reply.procedure_code)
            texts.append(part_reply.text)
        return replace(reply, text="\n\n".join(texts)) if len(texts) > 1 else reply

    def _clarify(self, result: SearchResult, confidence: float) -> Reply:
        """Ask back with the best candidates, one per procedure whatever its level: a citizen cannot
        choose between "cấp lại thẻ căn cước" at the province and at the ministry, and two such
        choices left out the ordinary "cấp thẻ căn cước" that "làm căn cước" most likely means. The case
        the question most likely means comes first (see ``_case_to_answer``)."""
        choices: list[Choice] = []
        named: set[str] = set()
        for candidate in [self._case_to_answer(result), *result.candidates]:
            name = candidate.procedure.name_without_level
            if name in named:
                continue
            named.add(name)
            choices.append(Choice(candidate.procedure.code, candidate.procedure.name))
            if len(choices) == CLARIFY_CHOICES:
                break
        return Reply("clarify", answers.clarify_text([c.name for c in choices]), confidence, choices=choices)

    def procedure(self, code: str) -> Procedure | None:
        """A procedure by its code or national code ('1.004194' of '1.004194.000.00.00.H48')."""
        by_national_code = self.retriever.by_national_code
        national_code = ".".join(code.split(".")[:2])
        return self.retriever.procedures.get(by_national_code.get(code) or by_national_code.get(national_code, code))

    def answer_for(self, code: str, question: str) -> Reply | None:
        """The answer once the citizen has picked a procedure from the choices."""
        procedure = self.procedure(code)
        if procedure is None:
            return None
        return self._answer(procedure, answers.detect_section(question), 1.0)

    def _answer(self, procedure: Procedure, section: Section | None, confidence: float) -> Reply:
        return Reply(
            "answer",
            answers.answer_text(procedure, section, self.helpdesk),
            confidence,
            procedure.code,
            procedure.name,
            (section or Section.OVERVIEW).value,
            procedure.portal_url,
        )

    def _faq_match(self, result: SearchResult) -> Procedure | None:
        """The best candidate among the procedures of an indexed FAQ question asked word for word."""
        codes = self.retriever.index.faq_codes.get(folded_key(result.question))
        if not codes:
            return None
        return next((c.procedure for c in result.candidates if c.procedure.national_code in codes), None)

    @staticmethod
    def _names_a_family(result: SearchResult) -> bool:
        """'tạm trú', 'hộ chiếu': a few words, all in the top procedure's names; too short to be
        sure which of the family is meant, so it is asked back rather than declined."""
        topic = naming_words(result.normalized)
        return 0 < len(topic) <= SHORT_QUESTION_WORDS and result.candidates[0].feature("topic_cover") >= ALL_WORDS

    @classmethod
    def _family_undecided(cls, result: SearchResult) -> bool:
        """'lệ phí chứng thực': a few words that more than one procedure's name holds in full (a copy,
        a signature, a contract), and the ranking does not favour the top one over the others together."""
        candidates = result.candidates
        return (
            len(candidates) > 1
            and cls._names_a_family(result)
            and candidates[1].feature("topic_cover") >= ALL_WORDS
            and sum(c.probability for c in result.level_variants()) < 0.5
        )

    def _asks_for_the_ordinary_case(self, result: SearchResult) -> bool:
        """'làm căn cước mất bao lâu': a few words, all in the name of the top procedure, which is its family's
        ordinary case (no special case in its name, none asked for) and one citizens here use; each other
        procedure the words fit in full is a special case not asked for ("cấp lại", "cấp đổi") or one citizens
        use less ("làm giấy khai sinh có mất tiền không": the registration combined with a parent's). The ranking
        may split between them (the portal files questions about making a card under its reissue), but the
        question means the ordinary case. Words found only in everyday names may say where ("ủy ban xã")
        rather than what, and an unused procedure ("đăng ký chữ ký số": a provider's registration) is no
        safe default."""
        if not self._names_a_family(result):
            return False
        top = result.candidates[0]
        if any(top.feature(marker) for marker in ("marker_asked", "marker_not_asked", "marker_not_in_name")):
            return False
        asked = {fold(w) for w in naming_words(result.normalized)}
        if top.feature("popularity") <= 0 or not asked <= self.retriever.name_words(top.procedure.code):
            return False
        family = {c.procedure.code for c in result.level_variants()}
        rivals = [
            c
            for c in result.candidates[1:]
            if c.procedure.code not in family
            and c.feature("topic_cover") >= ALL_WORDS
            and c.probability >= top.probability / RIVAL_SHARE
        ]
        return bool(rivals) and all(
            c.feature("marker_not_asked") or c.feature("popularity") < top.feature("popularity") for c in rivals
        )

    @staticmethod
    def _only_asks_about(result: SearchResult, section: Section | None) -> bool:
        """'cần giấy tờ gì?' names an aspect but no procedure: ask which one."""
        return section is not None and names_no_procedure(result.normalized)

    def _decline(self, result: SearchResult, confidence: float, log_unanswered: bool) -> Reply:
        if off_topic(result.normalized):
            return Reply("out_of_scope", answers.out_of_scope_text(), confidence)
        if log_unanswered:
            self._log_unanswered(result, confidence)
        return Reply("abstain", answers.abstain_text(self.helpdesk), confidence)

    def _log_unanswered(self, result: SearchResult, confidence: float) -> None:
        self.store.log_unanswered(
            result.question, LOW_CONFIDENCE, confidence, [c.procedure.code for c in result.candidates[:5]]
        )
