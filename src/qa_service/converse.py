"""resolve(messages) -> standalone question: a follow-up is completed from earlier user turns.

"When did it create a contact group?" after "What is the SCO?" becomes
"When did it create a contact group? (SCO)". The server keeps no session state: the history comes with
each request.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel

from qa_service.errors import InvalidInput
from qa_service.text import STOPWORDS, content_words

_ANAPHORA = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|he|him|his|she|her|the same|the group|the organization|"
    r"the organisation|the country|the latter|the former)\b",
    re.I,
)
_FOLLOW_START = re.compile(r"^\s*(and|but|also|what about|how about|why|how so|so|then|what else)\b", re.I)
_ENTITY = re.compile(
    r"\b(?:[A-Z]{2,}[A-Za-z-]*|[A-Z][a-zà-ÿ’'-]+(?:\s+(?:of|the|and|for)?\s*[A-Z][a-zà-ÿ’'-]+)*)\b"
)


class Message(BaseModel):
    role: str
    content: str


def _entities(text: str) -> list[str]:
    out = []
    for m in _ENTITY.finditer(text):
        phrase = m.group(0).strip()
        first = phrase.split()[0].lower()
        if first in STOPWORDS and len(phrase.split()) == 1:
            continue
        if phrase not in out:
            out.append(phrase)
    return out


def is_follow_up(question: str) -> bool:
    q_entities = [e for e in _entities(question) if e.split()[0].lower() not in STOPWORDS]
    short = len(content_words(question)) <= 3
    return bool(_FOLLOW_START.match(question) or _ANAPHORA.search(question) or (short and not q_entities))


def resolve(messages: Sequence[Message]) -> str:
    """The standalone question for the last user message."""
    if not messages:
        raise InvalidInput("messages is empty: send at least one user message")
    last = messages[-1]
    if last.role != "user":
        raise InvalidInput(f"the last message must come from the user, not '{last.role}'")
    question = " ".join(last.content.split())
    if not question:
        raise InvalidInput("the last user message is empty")
    earlier = [" ".join(m.content.split()) for m in messages[:-1] if m.role == "user" and m.content.strip()]
    if not earlier or not is_follow_up(question):
        return question
    for prev in reversed(earlier):
        ents = _entities(prev)
        context = ents or content_words(prev)[:6]
        if context:
            return f"{question} ({', '.join(context)})"
    return question


# Capitals and seats of government stand for their states in questions ("What does Beijing want?"): the
# retrieval query also names the state. General knowledge, not specific to any one paper.
_METONYMS = {
    "beijing": "China",
    "washington": "United States",
    "islamabad": "Pakistan",
    "tehran": "Iran",
    "new delhi": "India",
    "delhi": "India",
    "moscow": "Russia",
    "kremlin": "Russia",
    "kabul": "Afghanistan",
    "tashkent": "Uzbekistan",
    "dushanbe": "Tajikistan",
    "ashgabat": "Turkmenistan",
    "astana": "Kazakhstan",
    "bishkek": "Kyrgyzstan",
    "ankara": "Türkiye",
    "riyadh": "Saudi Arabia",
    "abu dhabi": "United Arab Emirates",
    "doha": "Qatar",
    "london": "United Kingdom",
    "paris": "France",
    "berlin": "Germany",
    "tokyo": "Japan",
    "brussels": "European Union",
    "white house": "United States",
    "state department": "United States",
    "pentagon": "United States",
    "rawalpindi": "Pakistan",
}
_METONYM_RE = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, _METONYMS), key=len, reverse=True)) + r")\b", re.I
)


def expand_query(question: str) -> str:
    """The question plus the states its capitals stand for."""
    names = []
    for m in _METONYM_RE.finditer(question):
        if re.match(r"\s+[A-Z]", question[m.end() :]):
            continue  # part of a longer name: "Moscow Format", "Washington Post"
        state = _METONYMS[m.group(1).lower()]
        if state.lower() not in question.lower() and state not in names:
            names.append(state)
    return f"{question} ({', '.join(names)})" if names else question


def proper_names(question: str) -> list[str]:
    """Capitalised words and acronyms that are not the first word, minus capitals that stand for states."""
    words = question.split()
    out = []
    for i, w in enumerate(words):
        w = w.strip("?,.!;:()\"'“”‘’")
        if not w or i == 0 or w.lower() in STOPWORDS or w.lower() in _METONYMS:
            continue
        if w[0].isupper() or (len(w) > 1 and w.isupper()):
            out.append(w)
    return out
