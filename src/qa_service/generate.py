"""Optional LLM-written answers whose every sentence is checked against the evidence it cites.

Generator.generate(answer, messages) takes the extractive answer (its evidence: the best candidate sentences
the composer considered) and asks an OpenAI-compatible model, through llama-index's OpenAILike, to answer
from that numbered evidence only, citing [n] after each sentence. Each sentence it writes is checked before
anyone sees it (check_sentence):

- citation: it cites at least one number, and only numbers of evidence it was given;
- facts: its numbers, dates, names and quoted words appear in the evidence it cites, and it negates nothing
  that the evidence states plainly;
- support: at least `min_support` of its content words (stemmed) are in the evidence it cites
  (the threshold is calibrated by eval/calibrate_support.py).

Sentences that fail are dropped and listed, with why. When none survives, or the model times out, fails or
answers with something unusable, the extractive answer is sent with a `reason`; LLM trouble never becomes
an error of the request. The footnotes cited are exactly those of the evidence sentences the kept sentences
cite: a generated sentence earns a footnote only through the document sentence it cites.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from qa_service.answer import Answer, AnswerSentence
from qa_service.config import LLMSettings, Settings
from qa_service.lexical import tokenize
from qa_service.models import FootnoteRef
from qa_service.text import MONTH_NAMES, normalize, words

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

    from qa_service.engine import Engine

AnswerMode = Literal["extractive", "generate"]
Check = Literal["citation", "facts", "support", "form"]

SYSTEM_PROMPT = """You answer questions about a set of documents, using only the numbered evidence \
sentences you are given, which are quoted from the documents.
Rules:
- Write at most {max_sentences} short sentences in plain prose; no lists, no headings.
- End every sentence with the number of the evidence sentence that supports it, in square brackets, \
e.g. "... was signed in 2020 [2]." Cite only numbers from the evidence list.
- Every number, date, name and quotation you write must appear in the evidence sentence you cite.
- Do not add anything the evidence does not say. If the evidence does not answer the question, write \
only: The documents don't say."""


class EvidenceSentence(BaseModel):
    """One numbered evidence sentence as the model was given it."""

    n: int = Field(description="The number the model cites it by ([n]).")
    text: str
    marker: int = Field(description="The passage it is in: `passages[marker - 1]` of the response.")
    passage_id: str
    sentence_id: str
    document: str = Field(description="The document the sentence is in.")
    footnote_document: str = Field(description="The document whose footnotes `footnotes` are.")
    footnotes: list[int] = Field(description="Footnotes that carry or cover it.")
    page: int | None = Field(None, description="The page it is on, when known.")


class GeneratedSentence(BaseModel):
    """A sentence the model wrote that passed every check."""

    text: str = Field(description="The sentence without its citations.")
    evidence: list[int] = Field(description="The evidence numbers it cites.")
    support: float = Field(description="Share of its content words found in the evidence it cites.")


class UnsupportedSentence(BaseModel):
    """A sentence the model wrote that failed a check, and was not shown."""

    text: str
    evidence: list[int] = Field(description="The numbers it cited (possibly of evidence it was not given).")
    check: Check = Field(description="The check it failed: citation, facts, support or form.")
    why: str = Field(description="What was wrong, in a sentence.")


class Generation(BaseModel):
    """What generate mode did to an answer."""

    mode: AnswerMode = Field(description="What the answer text is: generated, or the extractive answer.")
    model: str = ""
    evidence: list[EvidenceSentence] = Field(default_factory=list)
    sentences: list[GeneratedSentence] = Field(default_factory=list)
    unsupported: list[UnsupportedSentence] = Field(default_factory=list)
    reason: str | None = Field(None, description="Why the extractive answer was sent instead, if it was.")


# ---------------------------------------------------------------- evidence and prompt


def evidence_for(answer: Answer, limit: int) -> list[EvidenceSentence]:
    """The numbered evidence: the answer's own sentences first, then the other sentences of its passages in
    rank order (the composer's candidates), at most `limit`."""
    given: list[AnswerSentence] = list(answer.evidence)
    if not given:  # an answer from a passage the question named: its own sentences and their passages
        given = list(answer.sentences)
        seen = {s.sentence_id for s in given}
        for marker, hit in enumerate(answer.passages, 1):
            for cs in hit.chunk.sentences:
                if cs.id not in seen:
                    seen.add(cs.id)
                    given.append(
                        AnswerSentence(
                            text=cs.text,
                            marker=marker,
                            passage_id=hit.chunk.id,
                            sentence_id=cs.id,
                            document=hit.chunk.doc_id,
                            footnote_doc=hit.chunk.notes_doc,
                            footnotes=cs.covered_by,
                            score=0.0,
                        )
                    )
    out: list[EvidenceSentence] = []
    for s in given:
        if len(out) >= limit:
            break
        if any(e.sentence_id == s.sentence_id for e in out):
            continue
        out.append(
            EvidenceSentence(
                n=len(out) + 1,
                text=s.text,
                marker=s.marker,
                passage_id=s.passage_id,
                sentence_id=s.sentence_id,
                document=s.document,
                footnote_document=s.footnote_doc or s.document,
                footnotes=list(s.footnotes),
                page=s.page,
            )
        )
    return out


def prompt_messages(
    history: Sequence[Any], evidence: Sequence[EvidenceSentence], max_sentences: int
) -> list[tuple[str, str]]:
    """(role, content) pairs: the rules, the earlier turns, then the evidence with the question."""
    out = [("system", SYSTEM_PROMPT.format(max_sentences=max_sentences))]
    out += [(m.role, m.content) for m in history[:-1]]
    listed = "\n".join(f"[{e.n}] {e.text}" for e in evidence)
    out.append(("user", f"Evidence:\n{listed}\n\nQuestion: {history[-1].content}"))
    return out


# ---------------------------------------------------------------- reading the model's answer

_GROUP_RE = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\s*\]")
_ABBREV_RE = re.compile(r"(?:\b[A-Z]\.){1,4}$|\b(?:Mr|Mrs|Ms|Dr|Prof|St|No|vs|Gen|Jr|Sr|etc|e\.g|i\.e)\.$")
_END_RE = re.compile(r"[.!?…][”’\"')]*\s+")


def read_sentences(text: str) -> list[tuple[str, list[int]]]:
    """The model's answer as (sentence without citations, cited numbers), in order. A citation group right
    after a sentence's final stop ("... in 2005. [1]") belongs to that sentence."""
    text = " ".join(text.replace("**", "").split())
    pieces: list[str] = []
    start = 0
    for m in _END_RE.finditer(text):
        head = text[start : m.start() + 1]
        nxt = text[m.end() : m.end() + 1]
        if _ABBREV_RE.search(head) or (nxt and not (nxt.isupper() or nxt.isdigit() or nxt in "[“\"'(")):
            continue
        pieces.append(text[start : m.end()])
        start = m.end()
    pieces.append(text[start:])
    merged: list[str] = []
    for p in pieces:
        lead = re.match(r"^(?:\s*\[[\d\s,;]+\])+", p)
        if lead and merged:  # citations that open a piece close the previous sentence
            merged[-1] += " " + lead.group(0)
            p = p[lead.end() :]
        if p.strip():
            merged.append(p)
    out = []
    for p in merged:
        cites = [int(n) for g in _GROUP_RE.findall(p) for n in re.split(r"[,;]", g)]
        sentence = " ".join(_GROUP_RE.sub(" ", p).split())
        sentence = re.sub(r"\s+([.,;:!?])", r"\1", sentence)
        if sentence or cites:
            out.append((sentence, list(dict.fromkeys(cites))))
    return out


# ---------------------------------------------------------------- checks

_NUMBER_NAMES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty"
)
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(_NUMBER_NAMES.split())} | {
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "hundred": "100",
}
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_MONTHS = frozenset(m.lower() for m in MONTH_NAMES)
_NAME_WORD = r"(?:[A-Z]\.(?:[A-Z]\.)+|[A-Z][\w’'-]*)"  # "U.S." or "Smith"
_NAME_RE = re.compile(rf"\b{_NAME_WORD}(?:\s+{_NAME_WORD})*")
_ACRONYM_RE = re.compile(r"\b[A-Z]\.(?:[A-Z]\.)+")
_QUOTED_RE = re.compile(r"[“\"]([^”\"]{2,}?)[”\"]")
_STARTER_WORDS = (
    "the a an in on at by for from to of and but or so yet as after before during while when since this these "
    "that those it its they their there here he she his her we our you however moreover overall also both "
    "according although though because if instead meanwhile thus therefore finally first second third then "
    "today later earlier yes no"
)
_STARTERS = frozenset(_STARTER_WORDS.split())  # capitalised only because they open a sentence


_NEGATION_WORDS = (
    "not no never none nor neither without cannot can't don't doesn't didn't isn't aren't wasn't weren't won't "
    "refused refuses refuse failed fails fail rejected rejects reject denied denies deny"
)
_NEGATIONS = frozenset(_NEGATION_WORDS.split())


def negations(text: str) -> set[str]:
    return {w for w in words(text) if w in _NEGATIONS or w.endswith("n't")}


def numbers(text: str) -> set[str]:
    """Numbers as digits (commas dropped, number words read): "four" and "4" are the same number."""
    found = {m.group(0).replace(",", "") for m in _NUMBER_RE.finditer(text)}
    return found | {_NUMBER_WORDS[w] for w in words(text) if w in _NUMBER_WORDS}


def names(text: str) -> set[str]:
    """Capitalised words that are names (not merely sentence-initial), acronyms, and month names."""
    out: set[str] = set()
    for m in _NAME_RE.finditer(text):
        parts = [re.sub(r"[’']s$", "", w).replace(".", "") for w in m.group(0).split()]
        at_start = m.start() == 0 or bool(re.search(r"[.!?:]\s*[“\"(]?$", text[: m.start()]))
        if at_start and parts and parts[0].lower() in _STARTERS:
            parts = parts[1:]
        elif at_start and len(parts) == 1 and not parts[0].isupper():
            continue  # "Ruritania said..." is checked by support; "However," is not a name
        out.update(p.lower() for p in parts if len(p) > 1 and p.lower() not in _STARTERS)
    return out | {w for w in words(text) if w in _MONTHS}


def quoted(text: str) -> list[str]:
    return [normalize(q) for q in _QUOTED_RE.findall(text) if q.strip()]


def support(sentence: str, evidence: str) -> float:
    """Share of the sentence's content words (stemmed) that the evidence has; 0 when it has none."""
    mine = set(tokenize(sentence))
    return len(mine & set(tokenize(evidence))) / len(mine) if mine else 0.0


def _name_in(name: str, evidence_words: set[str]) -> bool:
    """A name is in the evidence as written or as a form of it ("Italian" for "Italy")."""
    return name in evidence_words or any(
        min(len(name), len(w)) >= 4 and (w.startswith(name) or name.startswith(w)) for w in evidence_words
    )


def check_sentence(
    text: str, cites: Sequence[int], evidence: Sequence[EvidenceSentence], cfg: LLMSettings
) -> UnsupportedSentence | GeneratedSentence:
    """A generated sentence kept (with its support score), or why it is not."""

    def fail(check: Check, why: str) -> UnsupportedSentence:
        return UnsupportedSentence(text=text, evidence=list(cites), check=check, why=why)

    if not cites:
        return fail("citation", "it cites no evidence")
    given = {e.n: e for e in evidence}
    unknown = [n for n in cites if n not in given]
    if unknown:
        return fail(
            "citation",
            f"it cites [{unknown[0]}], but the evidence given was [1]-[{len(evidence)}]"
            if evidence
            else f"it cites [{unknown[0]}], but no evidence was given",
        )
    if len(words(text)) < cfg.min_words:
        return fail("form", f"it is shorter than {cfg.min_words} words, not a claim")
    cited = " ".join(given[n].text for n in cites)
    ids = "".join(f"[{n}]" for n in cites)
    missing_numbers = sorted(numbers(text) - numbers(cited))
    if missing_numbers:
        return fail("facts", f"the number {missing_numbers[0]} is not in the cited evidence {ids}")
    evidence_words = set(words(cited)) | {a.replace(".", "").lower() for a in _ACRONYM_RE.findall(cited)}
    missing_names = sorted(n for n in names(text) if not _name_in(n, evidence_words))
    if missing_names:
        return fail("facts", f"the name or date '{missing_names[0]}' is not in the cited evidence {ids}")
    norm = normalize(cited)
    missing_quotes = [q for q in quoted(text) if q not in norm]
    if missing_quotes:
        return fail("facts", f"the quoted words '{missing_quotes[0]}' are not in the cited evidence {ids}")
    if negations(text) and not negations(cited):
        word = sorted(negations(text))[0]
        return fail("facts", f"it says '{word}' where the cited evidence {ids} negates nothing")
    score = support(text, cited)
    if score < cfg.min_support:
        return fail(
            "support",
            f"only {score:.0%} of its content words are in the cited evidence {ids} "
            f"(at least {cfg.min_support:.0%} needed)",
        )
    return GeneratedSentence(text=text, evidence=list(cites), support=round(score, 4))


def supports(sentence: str, evidence: Sequence[str], cfg: LLMSettings) -> bool:
    """Whether these evidence texts support the sentence by the same checks (the evaluation's judge)."""
    given = [
        EvidenceSentence(
            n=i,
            text=t,
            marker=0,
            passage_id="",
            sentence_id="",
            document="",
            footnote_document="",
            footnotes=[],
        )
        for i, t in enumerate(evidence, 1)
    ]
    return isinstance(check_sentence(sentence, [e.n for e in given], given, cfg), GeneratedSentence)


# ---------------------------------------------------------------- the generator


class LLMFailure(Exception):
    """The model could not give a usable answer (down, slow, error status, garbage)."""


_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="qa-llm")


class Generator:
    """Holds the configured LLM (created once); `generate` never raises for LLM trouble."""

    def __init__(self, cfg: LLMSettings, llm: LLM | None = None, max_sentences: int = 3) -> None:
        self.cfg = cfg
        self.max_sentences = max_sentences
        self._llm = llm

    @classmethod
    def from_settings(cls, settings: Settings) -> Generator:
        return cls(settings.llm, max_sentences=settings.llm.max_sentences)

    @property
    def configured(self) -> bool:
        return bool(self.cfg.base_url) or self._llm is not None

    def mode(self, requested: AnswerMode | None) -> AnswerMode:
        return requested or self.cfg.default_mode

    @property
    def llm(self) -> LLM:
        if self._llm is None:
            from llama_index.llms.openai_like import OpenAILike

            self._llm = OpenAILike(
                model=self.cfg.model or "default",
                api_base=self.cfg.base_url,
                api_key=self.cfg.api_key or "unused",
                is_chat_model=True,
                timeout=self.cfg.timeout_s,
                max_retries=0,
                temperature=self.cfg.temperature,
                max_tokens=self.cfg.max_tokens,
            )
        return self._llm

    def complete(self, prompt: list[tuple[str, str]]) -> str:
        """The model's reply text, within timeout_s; LLMFailure otherwise."""
        from llama_index.core.llms import ChatMessage

        msgs = [ChatMessage(role=role, content=content) for role, content in prompt]
        future = _POOL.submit(self.llm.chat, msgs)
        try:
            reply = future.result(timeout=self.cfg.timeout_s)
        except FutureTimeout as exc:
            raise LLMFailure(f"the language model did not answer within {self.cfg.timeout_s:g} s") from exc
        except Exception as exc:  # any failure of the model's server or client is LLM trouble, not ours
            raise LLMFailure(f"the language model failed ({_describe(exc)})") from exc
        content = reply.message.content
        if not isinstance(content, str) or not content.strip():
            raise LLMFailure("the language model returned no text")
        return content

    def generate(self, answer: Answer, history: Sequence[Any]) -> tuple[Answer, Generation]:
        """The answer written by the model from the evidence, its sentences checked; or the extractive
        answer with the reason (no model configured, nothing to go on, model trouble, nothing passed)."""
        if not self.configured:
            why = "generate mode needs a language model (QA_LLM__BASE_URL); this is the extractive answer"
            return _fallback(answer, Generation(mode="extractive", reason=why))
        if answer.abstained:  # the evidence does not answer it: no model is asked to pretend it does
            return answer, Generation(mode="extractive", model=self.cfg.model)
        evidence = evidence_for(answer, self.cfg.evidence_sentences)
        gen = Generation(mode="extractive", model=self.cfg.model, evidence=evidence)
        try:
            reply = self.complete(prompt_messages(history, evidence, self.max_sentences))
        except LLMFailure as exc:
            return _fallback(
                answer, gen.model_copy(update={"reason": f"{exc}; this is the extractive answer"})
            )
        written = read_sentences(reply)
        for text, cites in written:
            result = check_sentence(text, cites, evidence, self.cfg)
            (gen.sentences if isinstance(result, GeneratedSentence) else gen.unsupported).append(result)  # type: ignore[arg-type]
        if not gen.sentences:
            why = (
                f"none of the {len(written)} sentences the language model wrote passed the citation checks"
                if written
                else "the language model's reply held no sentence"
            )
            return _fallback(
                answer, gen.model_copy(update={"reason": why + "; this is the extractive answer"})
            )
        return _generated(answer, gen), gen.model_copy(update={"mode": "generate"})


def _describe(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    return f"{exc.__class__.__name__}{f' {status}' if status else ''}"


def _fallback(answer: Answer, gen: Generation) -> tuple[Answer, Generation]:
    return answer.model_copy(update={"reason": gen.reason}), gen


def _generated(answer: Answer, gen: Generation) -> Answer:
    """The answer made of the kept sentences: each followed by the passage markers of the evidence it cites;
    the citations are those evidence sentences, and the footnotes exactly theirs."""
    by_n = {e.n: e for e in gen.evidence}
    used: list[EvidenceSentence] = []
    parts = []
    for s in gen.sentences:
        cited = [by_n[n] for n in s.evidence]
        used += [e for e in cited if e not in used]
        markers = "".join(f"[{m}]" for m in dict.fromkeys(e.marker for e in cited))
        parts.append(f"{s.text} {markers}")
    sentences = [
        AnswerSentence(
            text=e.text,
            marker=e.marker,
            passage_id=e.passage_id,
            sentence_id=e.sentence_id,
            document=e.document,
            footnote_doc=e.footnote_document,
            footnotes=e.footnotes,
            page=e.page,
            score=0.0,
        )
        for e in used
    ]
    notes = {FootnoteRef(document=e.footnote_document, number=n) for e in used for n in e.footnotes}
    return answer.model_copy(
        update={
            "answer": " ".join(parts),
            "sentences": sentences,
            "footnotes": sorted(notes, key=lambda f: (f.document, f.number)),
            "reason": None,
        }
    )


def ask(
    engine: Engine,
    generator: Generator,
    messages: Sequence[Any],
    k: int | None = None,
    mode: AnswerMode | None = None,
    documents: Sequence[str] | None = None,
) -> tuple[Answer, Generation | None]:
    """engine.ask, then, in generate mode, the model's answer from its evidence (for the CLI, MCP and
    the evaluation; the HTTP routes run the two steps themselves, the first under the request time limit)."""
    answer = engine.ask(messages, k, documents=documents)
    if generator.mode(mode) != "generate":
        return answer, None
    return generator.generate(answer, messages)
