"""analyse(question, history) -> Question: what a question asks, read once, for retrieval and answering.

Everything downstream reads the Question: its kind (when, who, why, ...), the answer type it expects (a
date for "when", a number for "how many"), its focus terms, the named entities it mentions, the years and
numbers it names, its parts when it asks two things at once, and flags (an attempt to give instructions,
a question about the cited sources, about the document itself, or about its conclusion or purpose).

The rules read English question grammar, never the subject of a particular paper. Domain vocabulary
(a capital standing for its state, an acronym and its expansion) is optional data in the corpus
(`corpus/vocabulary.toml`), loaded as a `Vocabulary` and passed in.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from qa_service.errors import InvalidInput, ParseError
from qa_service.models import Message
from qa_service.parse.sentences import split_sentences
from qa_service.text import FUNCTION_WORDS, MONTH_NAMES, NUMBER_WORDS, STOPWORDS, content_words, fold, words

Kind = Literal[
    "when",
    "who",
    "where",
    "how_many",
    "why",
    "how",
    "reaction",
    "which_source",
    "quotation",
    "definition",
    "list",
    "about_document",
    "overview",
    "yes_no",
    "what",
]
AnswerType = Literal[
    "date",
    "number",
    "person",
    "place",
    "reason",
    "manner",
    "reaction",
    "source",
    "quote",
    "definition",
    "list",
    "statement",
]

# ---------------------------------------------------------------- English question grammar

_INJECTION_RE = re.compile(
    r"\b(ignor(?:e|es|ing)|disregard(?:ing)?|forget(?:ting)?|override|bypass)\b.{0,40}\b(instructions?|prompts?|"
    r"rules|guidelines|context|everything|above|previous)\b|\bsystem prompt\b|\byou are now\b|\bpretend (to be|you)\b|"
    r"\bjailbreak\b|\bdeveloper mode\b|\bnew instructions\b|"
    # "Act as ...", "From now on, act as ...", "You will act as ...": an order to the service, not "who would act as"
    r"(?:^|[.!?:;]\s*|\b(?:(?:from )?now on,?|please|pls|ok|okay|just|simply|you(?:\s+(?:will|must|should|shall|can))?|"
    r"(?:you(?:['’]re| are)\s+)?going to|(?:want|need|like|love|ask|order) you to)\s+)act as\b|\breveal (your|the) (prompt|instructions)\b",
    re.I,
)
# a relative clause that tells another report from the document ("the report that presented the assessment"),
# but not one whose subject is the reader or the service ("the paper that I uploaded", "the report you have")
_ANOTHER = r"\s+(?:that|which|whose)\s+(?!(?:i|you|we)(?:['’]\w+)?\b)"
_DOC_NOUN = rf"(?:paper|report|study|brief|document|publication|analysis|article)(?!s?{_ANOTHER})"
_ABOUT_DOC_RE = re.compile(
    rf"\b(?:who|which (?:organi[sz]ation|institution|foundation|think tank))\b.{{0,30}}\b(?:wrote|write|authored|"
    rf"published|publishes|released|produced|issued)\b(?:(?!\b(?:that|which|whose)\b).){{0,20}}"
    rf"\b(?:the|this) {_DOC_NOUN}\b|"
    rf"\bwho (?:is|are|was|were) (?:the )?(?:authors?|publishers?)\b"
    rf"(?!\s+of\s+(?:the\s+|an?\s+)?\w+{_ANOTHER})|"
    rf"\b(?:authors?|publisher|title|subtitle|publication date) of (?:the|this) {_DOC_NOUN}\b|"
    rf"\bwhen (?:was|is) (?:the|this) {_DOC_NOUN} (?:published|released|written|issued|dated)\b|"
    rf"\bwhat is (?:the|this) {_DOC_NOUN}(?:'s)? (?:title|called)\b|\bwho (?:is|was) behind (?:the|this) {_DOC_NOUN}\b",
    re.I,
)
_CONCLUSION_RE = re.compile(
    r"\b(?:main|central|key|overall|principal|core)\s+(?:arguments?|conclusions?|findings?|points?|thesis|claims?|"
    r"messages?|takeaways?|recommendations?)\b|\bconclu(?:de|des|ded|sion|sions)\b|\bsummar(?:y|ize|ise)\b|"
    r"\bbottom line\b|\brecommend(?:s|ed|ations?)?\b|\btakeaways?\b",
    re.I,
)
_OVERVIEW_WORD_RE = re.compile(
    r"main|central|key|overall|principal|core|arguments?|conclu\w*|findings?|points?|thesis|claims?|messages?|"
    r"takeaways?|recommend\w*|summar\w*|bottom|line|purpose|objectives?|aims?|goals?|scope|examine\w*|"
    r"investigat\w*|ask\w*|set|try|do|does|overall|whole|paper'?s?|report'?s?|study'?s?|brief'?s?|"
    r"document'?s?|analysis|article'?s?|publication'?s?|author'?s?",
    re.I,
)
# the reader asks how the document itself is laid out: "What sections does the report have?", "How is the
# paper organised?", "the brief's chapters", "the table of contents" (not "sections of society", "a structured
# dialogue")
_LAYOUT_RE = re.compile(
    rf"\b(?:sections?|chapters?|parts|headings?)\b.{{0,30}}\b(?:the|this|its) {_DOC_NOUN}\b|"
    rf"\b{_DOC_NOUN}(?:'s|’s)? (?:sections|chapters|headings|structure|outline|layout)\b|"
    rf"\bhow (?:is|was) (?:(?:the|this) {_DOC_NOUN}|it) "
    rf"(?:structured|organi[sz]ed|laid out|divided|set out)\b|"
    r"\btable of contents\b",
    re.I,
)
# the words of a question that asks for the layout and nothing else ("What sections does the paper have?"; not
# "Which section of the paper covers sanctions?")
_LAYOUT_WORD_RE = re.compile(
    r"sections?|chapters?|parts?|headings?|structured?|organi[sz]ed|outline|layout|laid|divided|contents|"
    r"table|have|has|contain|contains|cover|covers|consist|consists",
    re.I,
)
_PURPOSE_RE = re.compile(
    rf"\b(?:purpose|objective|aim|goal|scope)s?\s+of\s+(?:the|this)\s+{_DOC_NOUN}\b|"
    rf"\bwhat (?:is|does) (?:the|this) {_DOC_NOUN} (?:about|examine|investigate|ask|set out to do|try to do)\b|"
    # "what's this paper actually trying to find out?", "what does the report set out to show?"
    rf"\bwhat(?:['’]s| is| does) (?:the|this) {_DOC_NOUN} (?:\w+ly )?(?:trying|try|tries|setting out|set out|"
    r"seeking|seek|aiming|aim|want|wanting) to (?:do|find out|answer|show|establish|examine|explore|understand)\b|"
    rf"\bwhat (?:is|was) (?:the|this) {_DOC_NOUN} (?:for|about)?\s*\??$",
    re.I,
)
# up to two words between "which" or "what" and the noun of a record qualify it ("which Ruritanian report"),
# but none is an auxiliary, a modal, a pronoun or an article: "what did that report say" and "what would a
# report say" ask what a report says, not which record backs a claim
_QUALIFIERS = (
    r"(?:(?!(?:did|does|do|is|was|are|were|has|have|had|would|could|should|will|can|may|might|must|that|this|"
    r"these|those|the|a|an|it|you|we|they|he|she|i)\b)[\w'’-]+ ){0,2}?"
)
# the nouns a reader names a claim by, or a picture whose credit says where it comes from, when asking
_CLAIM_NOUNS = (
    r"(?:claims?|quotes?|quotations?|figures?|numbers?|data|statements?|estimates?|ideas?|bits?|passages?|"
    r"sentences?|information|info|assertions?|allegations?|accounts?|reporting|images?|photos?|photographs?|"
    r"pictures?|maps?|charts?)"
)
# a claim named after "where is" or "where does": "that" standing alone, or a determiner (a possessive) and up
# to four words before a claim's noun, not a person called a figure ("the opposition figure")
_A_CLAIM = (
    r"(?:(?:that|this|these|those)(?=\s+(?:from|come|comes|came|coming|cited|sourced|quoted|taken)\b)|"
    r"(?:the|that|this|these|those|[\w-]+['’]s)\s+"
    r"(?!(?:opposition|political|public|key|leading|prominent|senior|military|religious|tribal)\s+figures?\b)"
    rf"(?:[\w'’‘“”\"-]+\s+){{0,4}}?{_CLAIM_NOUNS}\b)"
)
_SOURCE_RE = re.compile(
    # "Which source vouches for ...?", "What Ruritanian study did it come from?", "What report does he point
    # to?"
    rf"\b(?:which|what) {_QUALIFIERS}(?:source|sources|footnote|footnotes|note|reference|references|citation|"
    r"document|doc|report|article|study|statement|publication)\b.{0,60}\b(?:cite[sd]?|support|supports|back|"
    r"backs|says?|said|for|behind|quoted|come|comes|documents?|based|points?|pointing|"
    # not a record something moves away from ("Which statement is Zenda backing away from?"); "out from" is
    # either ("pulling out from" it, or a figure "taken out from" it)
    r"(?<!\baway\s)(?<!\bback\s)from)\b|"
    # the record asked for at its end ("Who signed it, and in what publication?"), or the source with no "for"
    # or "of" after it ("Zenda's grain figure: what is its source?"), a claim "sourced" to a record ("Is this
    # figure sourced?"), "the sourcing of" it, or what a claim rests on ("What is that figure based on?")
    rf"\b(?:which|what) {_QUALIFIERS}(?:source|sources|document|doc|publication)\s*(?:[?.!]|$)|"
    r"\bwhat(?:['’]s| is| was| are)\s+(?:the|its|their|his|her|that|this)\s+(?:\w+\s+)?sources?"
    r"\s*(?:[?.!]|$)|"
    r"\b(?:that|this|it|claim|figure|statement|number|quote|estimate)\s+(?:\w+\s+)?sourced\b|"
    r"\bsourced\s+(?:to|from)\b|\bsourcing\s+(?:for|of|behind)\b|\b(?:the|any)\s+sourcing\s+on\b|"
    r"\bwhat(?:['’]s| is| was)\s+(?:that|this|it|the)\s+"
    r"(?:(?:claim|figure|statement|number|estimate|quote)\s+)?based on\s*(?:[?.!]|$)|"
    # where the paper takes a claim from: "Where did the study find that figure?" is not it, "Where does the
    # author get the idea that ...?" and "Where's the study getting that number?" are
    r"\bwhere(?:['’]s| is| does| did| do)\s+(?:the|this|that)\s+(?:paper|author|writer|report|study)\s+"
    r"(?:get|gets|getting|got)\s+(?:that|this|it\b|(?:the|its|that|this|his|her|[\w-]+['’]s)\s+"
    r"(?:claim|quote|quotation|figure|figures|number|numbers|data|statement|estimate|idea))|"
    # where a claim comes from, only of "that" or a claim's noun ("Where's that from?", "Where does the
    # quote about the belt come from?", "Where is the figure on the fees from?"): "Where's the envoy from?",
    # "Where do the weapons come from?", "Where is the money coming from?" ask for a place
    rf"\bwhere(?:['’]s|\s+is|\s+are|\s+was|\s+does|\s+do|\s+did)\s+{_A_CLAIM}"
    r".{0,80}\b(?:from|cited|sourced|quoted)\b|"
    # asked as a clause ("Can you confirm where the statement that ... comes from?"), or with the record's
    # noun before "is ... from" ("Which Zenda document is the 1921 statement on the fees from?")
    rf"\bwhere\s+(?:the|that|this)\s+{_CLAIM_NOUNS}\b.{{0,100}}?"
    r"\b(?:(?:comes?|came|coming)\s+from|originat\w*)|"
    rf"\b(?:which|what) {_QUALIFIERS}(?:document|doc|report|article|study|statement|publication|source)\s+"
    r"(?:is|was|are|were)\b.{0,120}(?<!\baway\s)(?<!\bback\s)(?<!\bout\s)\bfrom\s*(?:[?.!]|$)|"
    # the works the paper sends its reader to: "Which books does the author point readers to?", "Which studies
    # does the report cite?"
    r"\b(?:which|what)\s+(?:[\w'’-]+\s+)?(?:works|books|readings|studies|articles|publications)\s+"
    r"(?:does|did|do)\s+(?:the\s+|this\s+|its\s+)?(?:paper|author|writer|report|study)\s+"
    r"(?:(?:point|refer|direct|send)\w*|cites?|mentions?|recommends?|draws?\s+on|rel(?:y|ies)\s+on)\b|"
    # the title of a cited work, which its reference entry gives: "What's the title of that piece?" (a title
    # "of the report" or "of the study" is read first as the paper's own, a question about the document)
    r"\btitle\s+of\s+(?:that|this|the)\s+(?:piece(?!\s+of\b)|article|report|study|brief|book|op-ed|"
    r"commentary|column)\b|"
    r"\b(?:source|sources|citation|citations|footnotes?|references?|evidence)\b.{0,20}\b(?:for|of|behind|"
    r"supporting|backing)\b|"
    r"\bwhat (?:does|do|did) (?:(?:the )?paper|(?:the )?author|it|he|she|they)\s+(?:\w+ly\s+)?cite\b|"
    r"\bcited? (?:for|as|by)\b|"
    r"\bwho (?:is|was) (?:being )?quoted\b|"
    # what a claim rests on: "What's his authority for that?", "On what basis does the author say...?", "Whose
    # work is the author relying on?"; not "the legal basis for the sanctions" nor "Why did he rely on the militia?"
    r"\b(?:what(?:['’]s| is| was)|where(?:['’]s| is))\s+(?:his|her|their|its|the)\s+(?:authority|basis|grounds|evidence)\s+"
    r"for\s+(?:that|this|it|saying|claiming|the claim|the statement)\s*(?:[?.!]|$)|"
    r"\bon what (?:authority|basis|grounds|evidence)\s+(?:does|did|do|is|are|can)\s+(?:the\s+)?(?:author|writer|"
    r"paper|report|study|he|she|they)\s+(?:say|claim|argue|state|assert|conclude|write)|"
    r"\b(?:author|writer|paper|report|study)\s+(?:is\s+)?(?:relying|relies|rely|relied|drawing|draws|drew|draw)\s+on"
    r"(?:\s+(?:here|there|for (?:this|that|it)))?\s*(?:[?.!]|$)|"
    # whose thinking the paper builds on, the work it cites for it answering: "Whose model of river trade
    # does the writer draw on?", "Whose concept of tide states is that taken from?", "Who coined the term
    # 'tide state' the paper uses?"; the paper (or "that", "it") borrows it, or a term is quoted: not "Whose
    # framework agreement did Zenda sign?", "Whose ideas did the king adopt?", "Who developed the concept of
    # operations?"
    r"\bwhose\s+(?:[\w'’-]+\s+)?(?:theory|theories|concept|concepts|notion|notions|framework|typology|"
    r"terminology|scholarship|idea|ideas|model|thinking|work|approach)\b.{0,80}?"
    r"(?:\b(?:author|authors|paper|writer|study|report|brief|article|analysis)\b.{0,40}\b(?:borrow\w*|"
    r"draw\w*|drew|rel(?:y|ies|ied|ying)|build\w*|built|lean\w*|adopt\w*|use[sd]?|using|follow\w*|"
    r"appl(?:y|ies|ied))\b|\b(?:lifted|borrowed|taken|adapted|drawn)\s+from\b)|"
    r"\bwho\s+(?:first\s+)?(?:came up with|comes up with|coined|originated|invented|first proposed)\s+"
    r"(?:the|this|that|these)\s+(?:[\w'’-]+\s+){0,2}?(?:idea|ideas|concept|concepts|term|phrase|theory|"
    r"notion|framework|typology)\b.{0,60}(?:[‘'\"“]|\b(?:author|paper|writer|study|report|brief|article)\b)|"
    # the author's own earlier work, which the paper cites: "Has the writer published on Zenda before?", "Has
    # she already written about it?", "Has the author written about Zenda separately?"; not "Does the author
    # write about Zenda's ports?" (what the paper covers), "Did she write to each minister separately?"
    r"\b(?:has|had|have|did)\s+(?:the\s+)?(?:authors?|writers?|he|she|they)\s+(?:\w+self\s+|themselves\s+)?"
    r"(?:(?:previously|already|ever|earlier)\s+(?:written|wrote|write|published|publish)\b|"
    r"(?:written|wrote|write|published|publish)\b.{0,80}\b(?:before|previously|earlier|elsewhere|"
    r"in the past)\b|(?:written|published)\s+(?:anything|more|other)\b)|"
    r"\b(?:has|had|have)\s+(?:the\s+)?(?:authors?|writers?|he|she|they)\s+(?:written|published)\s+"
    r"(?:(?:about|on)\s+(?!.{0,60}?\b(?:each|both|two|all)\b).{1,60}?\s+separately|"
    r"separately\s+(?:about|on))\b|"
    # where a statement was made or reported is what the note citing it names: "Where's that reported?", "Where
    # did the Ruritanian king say that?", "Where was this first published?"; the question ends there: not "Where
    # did he say the talks would be held?", "Where are they reported to be?", "Where did he announce it, and when?"
    r"\bwhere(?:['’]s| is| was| were| are| has| have| had)\s+(?:that|this|it|they|these|those)\s+(?:been\s+)?"
    r"(?:first\s+|originally\s+)?(?:reported|published|documented|recorded|written|stated|said)\s*(?:[?.!]|$)|"
    r"\bwhere (?:did|does|do|has|have|had) (?:[\w'’-]+ ){1,4}?(?:say|said|write|wrote|written|state|stated|"
    r"report|reported|publish|published) (?:that|this|it|so)\s*(?:[?.!]|$)",
    re.I,
)
_SOURCE_WORD_RE = re.compile(
    r"\b(?:footnotes?|citations?|cited|cites|bibliograph\w*|references list)\b", re.I
)
# "footnote 12", "note 12", "endnote 12", and "reference 12" or "ref. 12" of a paper whose notes are a numbered list;
# not a figure "reference" qualifies ("reference 2014 levels", "the reference 2°C scenario", "reference 10-year yield")
_FOOTNOTE_NUMBER_RE = re.compile(
    r"\b(?:(?:(?:foot|end)?notes?)\s*(?:no\.?|number|#)?\s*(\d{1,4})\b"
    r"|(?:references?|ref\.?)\s*(?:no\.?|number|#)?\s*(\d{1,3})(?![\d°%/\-–]|\.\d|\s*(?:°|%|percent\b|per cent\b)))",
    re.I,
)
_QUOTATION_RE = re.compile(
    r"[\"“][^\"”]{8,}[\"”]|\bwho said\b|\bquot(?:e|es|ed|ation)\b|\bin (?:his|her|their) (?:own )?words\b|"
    # "tell" too, but not what something tells the reader ("What did the survey tell us?"): a finding
    # nor what the document itself says ("What did the paper say about X?" asks what "What does ..." asks),
    # unless it reports another's words ("What did the paper say Sapt told them?"); "the report" or "the
    # study" alone is as often one the paper cites
    r"\bwhat (?:exactly )?did "
    r"(?!(?:(?:this|the) (?:paper|author|authors|writer|article|document)\b(?!\s+of\b)"
    r"|this (?:report|study|brief|analysis)\b)"
    r"(?![^?]*\b(?:say|said|tell|told|state|stated|declare|declared)\b[^?]*"
    r"\b(?:say|said|says|tell|told|tells|state|stated|states|declare|declared)\b))"
    r"[^?]{2,60}\b(?:say|said|state|declare|write|call|(?:tell|told)(?!\s+(?:us|you|me)\b)"
    r"(?![^?]*\bapart\b))\b",
    re.I,
)
_REACTION_RE = re.compile(
    r"\bhow (?:did|does|do|has|have|was|were|is|are|would)\b[^?]{0,80}\b(?:respond|responded|react|reacted|"
    r"reply|replied|answer|answered|receive|received|view|viewed|greet|greeted|handle|handled|deal|dealt|"
    r"take|took|see|saw|feel|felt|regard|regarded)\b|\b(?:response|reaction|answer|reply) (?:of|by|from|to)\b|"
    r"\bwhat(?:['’]s| was| is| were| are) [^?]{0,40}(?:'s|’s)? (?:response|reaction|stance|position|attitude)\b|"
    # "What position has Zenda taken?", "what line did the envoy take"; not "what position did she hold" (an office)
    r"\b(?:what|which) (?:position|stance|line|attitude)s? (?:has|have|had|did|does|do|is|was|were|are|will|would)\b"
    r"[^?]{1,60}\b(?:take|taken|took|takes|adopt|adopted|adopts)\b",
    re.I,
)
_WHY_RE = re.compile(
    r"^(?:and |but |so )?why\b|\bwhat(?:['’]s| is| was| are| were) the (?:reasons?|causes?|motives?|motivations?|"
    r"rationale)\b|\bfor what reasons?\b|\bwhat (?:explains|explained|drives|drove|motivates|motivated|caused|causes|"
    r"led to|leads to|prompted|pushed)\b|\bwhat makes\b|\bhow come\b|\breasons? (?:for|why|behind)\b|"
    # "what's behind it", "what may lie behind it", "what could be behind it": "be" or "lie", contracted or not
    r"\bwhat(?:['’]s(?:\s+been)?|\s+(?:is|was|are|were|has been|lies|lay|(?:may|might|could|would|can|does|did) "
    r"(?:lie|be)))\s+(?:really\s+)?behind\b",
    re.I,
)
_WHEN_RE = re.compile(
    r"^(?:and |but |so )?when\b|\b(?:what|which|in what|in which) (?:year|years|month|date|day|decade|time)\b|"
    r"\bhow long ago\b|\bsince when\b|\bwhat time\b|,\s*when\b|\band when\b",
    re.I,
)
_WHO_RE = re.compile(r"^(?:and |but |so )?(?:who|whom|whose)\b|\b(?:and|,) (?:who|whom|whose)\b", re.I)
# "which countries", "which Ruritanian official", "which armed group": a name is asked for; after "which", up to
# two describing words may stand between (not a verb or an article); after "what", none ("what affects people")
_WHO_WHICH_RE = re.compile(
    r"\b(?:which (?:(?!(?:is|are|was|were|do|does|did|has|have|had|can|could|would|will|should|the|a|an|"
    r"of|kind|sort|type)\b)[\w-]+ ){0,2}|what )(?:countries|country|states|state|nations?|leaders?|officials?|person|"
    r"people|group|groups|organi[sz]ations?|bodies|body|actors?|powers?|members?|ministers?|governments?|envoys?|"
    r"institutions?|presidents?|diplomats?|representatives?|ambassadors?|delegates?|spokes(?:man|woman|person)|"
    r"commanders?|authors?|analysts?|scholars?)\b",
    re.I,
)
# "what is the name of the envoy?", "what was her name?": a name is asked for
_NAME_OF_RE = re.compile(
    r"\bwhat(?:'s| is| was| are| were) (?:the names? of|(?:his|her|their|its) names?)\b|"
    # "what is that diplomat's name?", "what was the envoy's name"
    r"\bwhat(?:['’]s| is| was| are| were) (?:the |that |this |those |these )?(?:[\w-]+ ){0,2}[\w-]+['’]s names?\b|"
    r"^(?:the |and the |and )?names? of (?:the |that |this |its |their )?(?:[\w'’-]+ ){0,2}?(?:persons?|people|men|"
    r"women|officials?|ministers?|PMs?|presidents?|envoys?|representatives?|ambassadors?|leaders?|spokes(?:man|"
    r"woman|person)|authors?|analysts?|secretar(?:y|ies)[- ]generals?|coordinators?|chairs?)\b(?!['’]s\b)",
    re.I,
)
# what "city" or "town" names when a noun follows it: not a place ("the town council", "city officials")
CIVIC_NOUNS = r"(?:councils?|halls?|mayor|officials?|government|authorities|states?)"
_WHERE_RE = re.compile(
    r"^(?:and |but |so )?where\b|\b(?:in|at) (?:what|which) (?:city|place|country|location|venue|capital)\b|"
    r"\b(?:which|what|names? of the) (?:city|town|place|location|venue|capital)\b"
    rf"(?!['’]s\b|\s+{CIVIC_NOUNS}\b)|\band where\b",
    re.I,
)
_HOW_MANY_RE = re.compile(
    r"\bhow (?:many|much|large|big|long|often|far|old)\b|\bwhat (?:number|amount|share|percentage|proportion|"
    r"fraction|sum|figure|size)\b|\bnumber of\b|\bwhat(?:'s|’s| is| was| are| were) the (?:[\w-]+ )?(?:value|"
    r"amount|total|size|population|rate|cost|figure|percentage|proportion|budget|count) of\b|"
    # a figure asked for by its noun: "give me the dollar value", "what's the figure since...", "exact head count";
    # not "the central figure behind the coup", "what is the estimate based on"
    r"\b(?:dollar|euro|money|cash|death|casualty|head|exact|rough|ballpark|estimated|approximate|overall)[\s-]+"
    r"(?:figure|value|total|count|toll|tally|estimate|number|amount)s?\b|\bheadcount\b|"
    r"\b(?:what(?:['’]s| is| was)|give me|tell me)\s+the\s+(?:figure|total|count|tally|toll|estimate|amount)"
    r"(?=\s*(?:[?.]|$|\b(?:since|for|of|on|in|from)\b))",
    re.I,
)
_DEFINITION_RE = re.compile(
    r"^(?:what|who) (?:is|are|was|were) (?:an? |the )?[^?]{1,50}\??$|^define\b|\bwhat (?:does|do) [^?]{1,40} "
    r"(?:mean|stand for)\b|\bwhat is meant by\b|\bmeaning of\b|\bdefinition of\b|\bhow (?:does|do) [^?]{1,60} "
    r"defined?\b|\bwhat kind of (?:thing|body|organi[sz]ation|group) is\b",
    re.I,
)
_LIST_RE = re.compile(
    r"\b(?:what|which) (?:are|were) (?:the )?(?:two|three|four|five|six|several|main|major|key|different)\b|"
    r"^list\b|\bname (?:the|all|some)\b|\bwhat (?:are|were) (?:some|all) (?:of )?the\b",
    re.I,
)
_YES_NO_RE = re.compile(
    r"^(?:did|does|do|is|are|was|were|has|have|had|can|could|will|would|should|shall|may|might)\b", re.I
)
_HOW_RE = re.compile(r"^(?:and |but |so )?how\b|\bin what way\b|\bby what means\b|\band how\b", re.I)

# A second question joined to the first: "Who chairs it, and when was it founded?"
_PART_SPLIT_RE = re.compile(
    r"\?\s+(?=\S)|,?\s+(?:and|as well as|plus|also)\s+(?=(?:who|whom|whose|what|when|where|why|how|which|"
    r"in which|in what)\b)|;\s*",
    re.I,
)
# Words that frame a question but say nothing about its subject.
SCAFFOLD = frozenset(
    """according paper document documents report text author authors article brief study analysis tell
    explain describe mention mentions mentioned say says said state states stated discuss discusses
    discussed give gives happen happened happens think thinks view views exactly actually really kind
    sort type way ways something anything thing things please know""".split()  # noqa: SIM905
)
MONTHS = [m.lower() for m in MONTH_NAMES]
# a month as written in full or short ("Oct 2024", "Sept. 2023"): the month it names
_MONTH_OF = {m: m for m in MONTHS} | {m[:3]: m for m in MONTHS if m != "may"} | {"sept": "september"}
# a short form, or "May", names a month only before a day or a year ("May 2020", "Oct. 4"): "Jan" and "May"
# may be people, "mar" a verb
_SHORT_MONTH_RE = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)\.?\s*(?=\d)", re.I
)


def _is_month(word: str, after: str) -> bool:
    """The capitalised word names a month: in full (not "May"), or short before a day or a year."""
    w = word.lower().rstrip(".")
    if w in MONTHS and w != "may":
        return True
    return w in _MONTH_OF and bool(re.match(r"\.?\s*\d", after))


# "may" and "march" are verbs and nouns as often as months: months only in a date ("in March", "March 2022",
# "since May"), not "the protesters march", "who led the march"
_VERB_MONTHS = frozenset({"may", "march"})
_VERB_MONTH_RE = re.compile(
    r"\b(?:in|of|by|since|until|till|from|early|late|mid|last|next|during|before|after)[\s-]+(march|may)\b|"
    r"\b(march|may)(?=\s+\d)",
    re.I,
)
_YEAR_RE = re.compile(r"\b(1[89]\d\d|20\d\d)s?\b")
# a month's name right before or after a number, in full or short: the number is a day or a year written
# short, no figure; "May", "March" and "Mar" only with their capital (else verbs: "12 may vote", "30 march on it")
_MONTH_WORD = (
    "(?:(?i:"
    + "|".join(sorted(set(_MONTH_OF) - {"may", "march", "mar"}, key=len, reverse=True))
    + ")|May|March|Mar)"
)
_MONTH_BEFORE_RE = re.compile(rf"\b{_MONTH_WORD}\.?\s*$")
_MONTH_AFTER_RE = re.compile(rf"(?:st|nd|rd|th)?\s+{_MONTH_WORD}\b")
# what may follow a day or a short year: the end, a mark, a function word ("in June 24 about ...")
_AFTER_A_DAY_RE = re.compile(r"\s*(?:$|[^\w\s]|(?:" + "|".join(sorted(STOPWORDS)) + r")\b)", re.I)
# the two words after a number, which it may count ("In May 40 soldiers", "in June 30 new members")
_NEXT_TWO_WORDS_RE = re.compile(r"\s+([A-Za-z][\w'’-]*)(?:\s+([A-Za-z][\w'’-]*))?")
# nouns in the plural without an -s (a number before them counts them)
_IRREGULAR_PLURALS = frozenset(
    "people men women children staff police personnel sheep aircraft cattle militia".split()  # noqa: SIM905
)
_DAYS_IN_A_MONTH = 31  # a number after a month and before a word is a day (or a short year) only up to this
# a number the reader gives as a rough one ("the 20-odd groups", "some 300 staff", "40-plus"): the documents
# may write it otherwise ("over two dozen"), so it is no figure an answer must state. A percentage is exact.
_ROUGH_BEFORE_RE = re.compile(
    r"(?:\b(?:some|about|around|roughly|approximately|approx\.?|nearly|almost|circa)|(?<![\w.])ca?\.|~)"
    r"\s*[$€£]?\s*$",
    re.I,
)
# "about" and "around" after a verb of saying or knowing are prepositions ("What did it say about 12 groups?")
_ABOUT_AS_PREPOSITION_RE = re.compile(
    r"\b(?:say|says|said|saying|know|knew|known|tell|tells|told|write|writes|wrote|written|talk|talks|"
    r"talked|think|thinks|thought|learn|learnt|learned|read|ask|asks|asked|speak|speaks|spoke|hear|heard|"
    r"worry|worried|concern|concerned|care|cares|cared|centred|centered)\s+(?:about|around)\s*[$€£]?\s*$",
    re.I,
)
_ROUGH_AFTER_RE = re.compile(r"(?:-odd|-ish|-plus|-something|\s+or\s+so)\b|\+", re.I)
# a figure; not digits joined to digits by a slash, which name a day or an event ("9/11", "24/7") rather than
# count ("5%/year" and "$5/day" are figures)
_NUMBER_RE = re.compile(
    r"(?<![\w.])(?<!\d/)(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s?(%|percent|per cent))?(?![\w.]|/\d)"
)
_ENTITY_RE = re.compile(
    r"(?:[A-Z][A-Za-z]*[A-Z][A-Za-z-]*|[A-Z][a-zà-ÿ'’-]+)"
    r"(?:\s+(?:of|of the|for|de|al|bin)?\s*(?:[A-Z][A-Za-z]*[A-Z][A-Za-z-]*|[A-Z][a-zà-ÿ'’-]+))*"
)
_ANAPHORA_RE = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|he|him|his|she|her|this|that|these|those|the same|there|then)\b",
    re.I,
)
# a pronoun for people as the subject ("when did they write", "they later said"): after a who-question, the
# people the answer named
_PEOPLE_PRONOUN_RE = re.compile(
    r"(?:^|\b(?:did|does|do|was|were|is|are|has|have|had|will|would|can|could|should)\s+)(they|he|she)\b", re.I
)
_PEOPLE_NAMED = 3  # the answer's first names: an answer to a who-question names the people first
# what authors are asked about: "When did they write it?" after a source answer asks about its authors
_WROTE_RE = re.compile(
    r"\b(?:write|wrote|written|writing|publish(?:ed|ing)?|argue[sd]?|arguing|say|said|claim(?:ed)?|"
    r"describe[sd]?|classif(?:y|ied)|call(?:ed)?|coin(?:ed)?|define[sd]?|propose[sd]?)\b",
    re.I,
)
_ANSWER_WORDS = 6  # "What about X?": the last answer's words it keeps (as many as of the earlier question's topic)
# a pronoun that stands for someone or something named before ("did it", "its members", "they")
_PERSONAL_PRONOUN_RE = re.compile(r"\b(it|its|they|them|their|he|him|his|she|her)\b", re.I)
_FOLLOW_START_RE = re.compile(
    r"^\s*(and|but|also|what about|how about|why|why not|how so|so|then|what else|anything else|and then|"
    r"what happened next|more on)\b",
    re.I,
)
# a sentence put as a question: a question word or an auxiliary first, or after a phrase set before it ("At the
# summit, what did...")
# the words a question opens with: a question word or an auxiliary
_ASKING = (
    r"(?:what|when|where|who|whom|whose|why|how|which|do|does|did|is|are|was|were|has|have|had|can|could|will|"
    r"would|should|shall|may|might)"
)
_QUESTION_OPEN_RE = re.compile(rf"(?:^|[,;:—–]\s*)(?:and |but |so |then )?{_ASKING}\b", re.I)
_QUESTION_WORDS = frozenset(
    [
        "what",
        "when",
        "where",
        "who",
        "whom",
        "whose",
        "why",
        "how",
        "which",
        "whats",  # typed without the apostrophe: "Whats the capital of Zenda"
        "whos",
        "wheres",
        "whens",
        "hows",
        "did",
        "does",
        "do",
        "is",
        "are",
        "was",
        "were",
        "has",
        "have",
        "had",
        "can",
        "could",
        "will",
        "would",
        "should",
        "in",
        "on",
        "at",
        "for",
        "from",
        "by",
        "to",
        "of",
        "and",
        "but",
        "so",
        "if",
        "tell",
        "list",
        "name",
        "give",
        "define",
        "describe",
        "explain",
    ]
)


class Vocabulary(BaseModel):
    """Optional domain data: names that stand for another name. Loaded from corpus/vocabulary.toml;
    matching is case-insensitive."""

    aliases: dict[str, list[str]] = Field(
        default_factory=dict,
        description="[aliases] name = [\"other name\", ...]: another name for the same thing (\"Britain\" "
        "for \"United Kingdom\"), wherever the question writes it.",
    )
    seats: dict[str, list[str]] = Field(
        default_factory=dict,
        description="[seats] city = [\"state\", ...]: a capital or seat of government, which stands for its "
        "state where the state acts (\"What does Tokyo want?\") but is the city where the question puts "
        "something in or at it (\"the talks in Tokyo\", \"the Tokyo summit\"): documents that name the state "
        "may never name the city, and do not answer what happened there.",
    )

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        if not path.exists():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ParseError(f"{path}: not valid TOML ({exc})") from exc
        tables = {
            t: {str(k).lower(): [str(v) for v in vs] for k, vs in data.get(t, {}).items()} for t in _TABLES
        }
        return cls(**tables)

    def variants(self, name: str, place: bool = False) -> list[str]:
        """The other names of `name`; not its state's where `place` (the question names the city as a
        place)."""
        key = name.lower()
        return [*self.aliases.get(key, []), *([] if place else self.seats.get(key, []))]


_TABLES = ("aliases", "seats")


class Entity(BaseModel):
    text: str = Field(description="As the question writes it.")
    variants: list[str] = Field(
        default_factory=list,
        description="Other names for it: domain aliases, English inflections, the corpus's spelling of it, "
        "and the acronym of the one long form the documents define that it begins and the prose writes "
        "nowhere else ('the Strelsau group': 'SCC', whose long form only its definition writes; "
        "`TermStats.other_names`).",
    )
    known: bool | None = Field(None, description="Whether the corpus uses it (None: not checked).")
    asked: bool = Field(
        True, description="Named in the last message itself, not only earlier in the conversation."
    )
    same_as: list[str] = Field(
        default_factory=list,
        description="The other half of an acronym the documents define ('IMF' for 'International Monetary Fund' "
        "and back): a mention of it, but no part of the retrieval query (measured: as a variant in the query, "
        "leave-one-writer-out facts fell 0.730 -> 0.714 and follow-ups 0.740 -> 0.700, the definition's own "
        "sentence, which writes both, winning). A name that only begins the long form ('Strelsau') is the "
        "exception: the acronym is among its variants too (measured: leave-one-writer-out facts +0.0022, "
        "follow-ups +0.0083 on the fifteen training writers).",
    )

    def names(self) -> list[str]:
        return [self.text, *self.variants, *self.same_as]


# "Does the paper give a figure?", "Does it say?", "Is there a figure?": whether the documents say, not a thing of
# its own; not "Does the report say when the talks began?", which asks when
_ASKS_THE_DOCUMENTS_RE = re.compile(
    r"^(?:and |but |so )?(?!.*\b(?:who|whom|when|where|why|how|which|what|whether)\b)(?:"
    r"(?:does|do|did|can|could|is|are|was|were|has|have)\s+(?:(?:the |this |that |your |these )?(?:paper|papers|"
    r"document|documents|report|text|author|source|sources|article|study|brief)\s+(?:\w+\s+)?(?:have|has|"
    r"go into|know|specify|quote|_VERBS_)|(?:it|they)\s+(?:\w+\s+)?(?:_VERBS_))\b"
    r"|is there (?:a|an|any) (?:figure|number|date|name|source|estimate|count|breakdown)s?\b)".replace(
        "_VERBS_",
        "give|gives|say|says|mention|mentions|list|lists|put|puts|name|names|state|states|provide|provides|"
        "tell|offer|include|includes|cite|cites",
    ),
    re.I,
)


class Part(BaseModel):
    """One thing the question asks; a two-part question has two."""

    text: str
    kind: Kind
    answer_type: AnswerType
    focus: list[str]
    numbers: list[str]
    context: bool = Field(
        False,
        description="The earlier turns' words `resolve` adds to a follow-up: read as a part, so that a sentence "
        "about them competes, but asking for nothing.",
    )

    @property
    def asks_a_kind(self) -> bool:
        """It asks for a kind of thing of its own: a kind its words name, or a question put as one ("What did
        it decide?"); not the words a follow-up carries over, nor a request beside a question ("Need the name
        for the brief.", "Dates, please."), nor whether the documents give what the question asks ("How many
        guards? Does the report give a figure?")."""
        if self.context or _ASKS_THE_DOCUMENTS_RE.match(self.text):
            return False
        return self.kind != "what" or bool(_QUESTION_OPEN_RE.search(self.text))

    @property
    def asks_why(self) -> bool:
        """It asks for a reason, as its kind or in so many words ("When did it refuse, and why?")."""
        return self.answer_type == "reason" or bool(re.search(r"\bwhy\b", self.text, re.I))


# "When was that?", "Why did this happen?": a question that points back at what the reader stated
_DEMONSTRATIVE_BACK_RE = re.compile(r"\b(?:this|that|these|those)\b(?!\s+(?:latest|new|last|next|year|week|month))", re.I)
_BARE_QUESTION_WORDS = 1  # content words of its own a question may have and still only ask about what was stated


class Question(BaseModel):
    text: str = Field(
        description="The user's last message, whitespace normalised, its lower-case names given the capitals "
        "the corpus writes them with (what the analysis reads)."
    )
    written: str = Field("", description="The user's last message as written, whitespace normalised.")
    standalone: str = Field(
        description="The question completed from the conversation when it is a follow-up."
    )
    follow_up: bool = False
    kind: Kind
    answer_type: AnswerType
    focus: list[str] = Field(description="Content words that say what it is about (lower case, in order).")
    entities: list[Entity] = Field(default_factory=list)
    years: list[str] = Field(default_factory=list)
    numbers: list[str] = Field(
        default_factory=list, description="Numbers it writes in digits, years excluded ('3', '25%')."
    )
    counts: list[str] = Field(
        default_factory=list,
        description="Counts it writes in words ('which four governments'), as digits: they describe the answer "
        "and need not be in it.",
    )
    months: list[str] = Field(default_factory=list)
    footnotes: list[int] = Field(
        default_factory=list, description="Footnote numbers it names ('footnote 12')."
    )
    parts: list[Part] = Field(default_factory=list)
    expansions: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Focus words the corpus does not use -> the corpus words nearest in meaning (set by the "
        "engine, which knows the corpus).",
    )
    injection: bool = False
    about_sources: bool = False
    asks_for_sources: bool = Field(
        False,
        description="Its own words ask for sources (a source question, a footnote's number, 'source', "
        "'cite'); `about_sources` is also set by the engine for a question that names what only the "
        "reference list has.",
    )
    about_document: bool = False
    about_layout: bool = Field(
        default=False, description="It asks how a document is laid out: its sections, chapters or contents."
    )
    overview: Literal["conclusion", "purpose"] | None = None
    counted: list[str] = Field(
        default_factory=list,
        description="The sentence of the last answer whose list the question counts in ('the third one'): "
        "it named what the question asks about and is not an answer to it.",
    )
    stated: list[str] = Field(
        default_factory=list,
        description="The sentences of the question that state rather than ask (see `premises`): the reader's "
        "setting.",
    )
    sources_of: list[str] = Field(
        default_factory=list,
        description="The last answer's sentences, when a follow-up asks for the sources of what it said "
        "('What's the source for that?'): the references their footnotes point to answer it.",
    )
    borrowed: list[str] = Field(
        default_factory=list,
        description="A follow-up's focus words that no user message writes: what `resolve` took from the "
        "assistant's answers (its sentence, its words, what an ordinal counts).",
    )

    @property
    def lexical_query(self) -> str:
        """The query for BM25: the retrieval query plus the corpus's words for the reader's words."""
        extra = [w for ws in self.expansions.values() for w in ws]
        return f"{self.query} {' '.join(extra)}" if extra else self.query

    @property
    def query(self) -> str:
        """The retrieval query: the standalone question plus the other names of its entities."""
        said = " " + " ".join(words(self.standalone)) + " "
        extra = [v for e in self.entities for v in e.variants if f" {' '.join(words(v))} " not in said]
        return f"{self.standalone} ({', '.join(dict.fromkeys(extra))})" if extra else self.standalone

    @property
    def subject(self) -> list[str]:
        """Focus terms beyond those that ask for an overview ("What is the paper's main conclusion?" has
        none; "What does it conclude about sanctions?" has "sanctions")."""
        return [w for w in self.focus if not _OVERVIEW_WORD_RE.fullmatch(w)]

    @property
    def layout_only(self) -> bool:
        """It asks for the layout and nothing else: the tables of contents answer it outright."""
        return self.about_layout and all(
            _LAYOUT_WORD_RE.fullmatch(w) or _OVERVIEW_WORD_RE.fullmatch(w) for w in self.focus
        )

    @property
    def naming(self) -> str:
        """Where the user's last message names what it asks about: what it asks, or the whole message where that
        refers back with a pronoun ("Sapt resigned in 2019. Why did he go?" asks about Sapt). Not the names a
        follow-up carries over from earlier turns: those were asked about when they were written."""
        asked = _asked(self.text, self.stated)
        own = [w for w in content_words(asked) if w not in SCAFFOLD and w not in _QUESTION_WORDS]
        refers_back = _PERSONAL_PRONOUN_RE.search(asked) or _DEMONSTRATIVE_BACK_RE.search(asked)
        # "Zenda signed with Strelsau. Why?": a question of a word or two asks about what was stated
        return self.text if refers_back or len(own) <= _BARE_QUESTION_WORDS else asked

    @property
    def required(self) -> list[str]:
        """What an answer must mention to be an answer to this question: the years and the numbers it writes
        in digits."""
        return [*self.years, *self.numbers]


# ---------------------------------------------------------------- analysis


# a subordinate clause put before the question it sets up: "When the author calls it 'pre-modern', what does he
# mean?", "If the talks fail, who pays?"; the question is what follows the comma, not "when" or "if"
_FRONTED_CLAUSE_RE = re.compile(
    r"^(?:and |but |so )?(?:when|if|while|once|after|before|since|given that|now that|as)\s"
    # a clause has its own subject next; "When was it signed, who came?", "When exactly did the council, which
    # Zenda founded, meet?" ask a when-question
    r"(?!(?:[\w'’-]+\s+){0,2}(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|may|might|"
    r"shall|must)\b)[^,?]{3,120},\s*"
    rf"(?={_ASKING}\b)",
    re.I,
)

# what the question is about, named before a dash or a colon, then the question: "The last of those — why was it
# set up?", "Zenda's envoy - did he ever go back?", "Harbour fees: when were they raised?"; the question is what
# follows. Not where the words before the
# dash ask themselves ("What did Sapt say — and when?") or quote ("He wrote 'peace — how?'"), nor where the dash
# opens an aside that another closes ("The envoy — who was appointed in 1990 — did he return?"); the question
# word after the dash in lower case, so that a range ("the March – May talks") or an acronym ("WHO") is none
_FRONTED_TOPIC_RE = re.compile(
    rf"^(?!(?:and |but |so )?{_ASKING}\b)[^?—–\"“”:]{{1,100}}?(?:\s*[—–:]\s*|\s+-{{1,2}}\s+|--)"
    rf"(?=(?-i:(?:and |but |so )?{_ASKING})\b[^—–]*$)",
    re.I,
)


# a title before a name ("Mr. Strelsau", "Dr Sapt"): no name itself (written as a title, not "DR Congo")
_TITLES = frozenset(
    "mr mrs ms mx dr prof sir dame madam mme messrs rev gen col maj capt lt sgt gov amb jr sr".split()  # noqa: SIM905
)
# a full stop that ends an abbreviation, not a sentence: a title, "vs.", "e.g.", "St. Petersburg", "approx."; and
# before a number only, "No. 5", "Jan. 5", "p. 12" ("Sapt's answer was no. Why?" ends one)
_ABBREVIATIONS = _TITLES | frozenset(
    "vs v e.g eg i.e ie cf approx incl esp viz st sen rep dept univ co corp inc ltd".split()  # noqa: SIM905
)
_BEFORE_NUMBERS = frozenset(
    "no nos p pp vol ch art fig para sec jan feb mar apr jun jul aug sep sept oct nov dec".split()  # noqa: SIM905
)
# what opens a sentence that asks, after any full stop ("... Zenda Holdings Ltd. Why did it sell?")
_ASKING_NEXT_RE = re.compile(rf"[\"“‘'(]?{_ASKING}\b", re.I)
# a sentence that asks or requests, wherever it stands: a question word anywhere; at its start (after "and",
# "also", "please"...), a verb that asks ("Did ...", "Could you ...") or requests ("Find ...", "Give ..."), or a
# reader's wish ("I want to know ...", "I'd like ...", "I'm looking for ...")
_ASKS_RE = re.compile(r"\b(?:what|when|where|who|whom|whose|why|how|which|whether)\b", re.I)
_REQUEST_RE = re.compile(
    r"^(?:(?:and|also|but|now|then|please|pls|ok|okay|just)[\s,]+)*(?:"
    # a verb that asks, as a question without its mark ("Did it sign in 2019."); not "May 2019 saw...", "Will
    # Sapt ...", "Had it signed, ...", "Were it to sign, ..."
    r"do|does|did|is|are|was|has|have|can|could|would|should|"
    r"tell|list|name|give|define|describe|explain|summari[sz]e|remind|show|walk|quote|identify|outline|"
    r"compare|need|want|include|specify|confirm|check|say|find|focus|look|provide|clarify|cite|spell|"
    r"i(?:['’]d| would) (?:like|love)|i (?:want|need|wonder)|i(?:['’]m| am) (?:looking|after|interested|"
    r"curious|trying|asking|wondering)|i(?:['’]ve| have) been (?:wondering|trying|looking))\b",
    re.I,
)


def sentences_of(text: str) -> list[str]:
    """The sentences of a message: split after '.', '!' or '?' before a capital or a quotation mark, not after an
    abbreviation ("Mr.", "vs.", "No.") or an initial ("J.")."""
    out: list[str] = []
    start = 0
    for m in re.finditer(r"(?:[.!?…]+|\.\.\.)[\"”’')]*\s+(?=[\"“‘'(]?[A-Z0-9])", text):
        before = re.search(r"([\w.]+?)\W*$", text[start : m.start() + 1])
        word = (before.group(1).rstrip(".") if before else "").lower()
        after = text[m.end() :]
        abbreviated = (
            word in _ABBREVIATIONS
            or (word in _BEFORE_NUMBERS and after[:1].isdigit())
            or (len(word) == 1 and word.isalpha() and after[:1].isupper())  # an initial: "J. Sapt"
        )
        if m.group(0).startswith(".") and abbreviated and not _ASKING_NEXT_RE.match(after):
            continue
        out.append(text[start : m.end()].strip())
        start = m.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


def premises(text: str) -> list[str]:
    """The sentences of a question that state what the reader knows or thinks rather than ask ("In the 1990s
    Zenda backed the rebels. Why does it court them now?"): no question mark, no question word, no verb that
    asks or requests at its start, in a message that asks something. What it dates or counts is the reader's
    setting, not what the answer must state."""
    said = sentences_of(text)
    if not any("?" in s for s in said):
        return []
    return [s for s in said if "?" not in s and not _ASKS_RE.search(s) and not _REQUEST_RE.match(s)]


def _asked(text: str, stated: Sequence[str]) -> str:
    """The text without the sentences that only state (`stated`: see `premises`), each removed whole or, where a
    question's parts split it, piece by piece."""
    for p in stated:
        if p in text:
            text = text.replace(p, " ")
            continue
        for piece in _PART_SPLIT_RE.split(p):
            if (piece := piece.strip(" ,;?")) and len(piece) > 1:
                text = text.replace(piece, " ")
    return " ".join(text.split()).strip(" ,;.")


# a question word run together with "is", as readers type it: "Who's the author?" asks what "Who is the
# author?" asks, and "whats", "wheres" what "what's", "where's" ask (the apostrophe left out)
_CONTRACTED_RE = re.compile(
    r"\b(?:(who|where|when|how)['’]?s|(what)s)\b(?!\s+(?:been|happened|become|changed|gone|got)\b)", re.I
)


def _written_out(text: str) -> str:
    return _CONTRACTED_RE.sub(lambda m: f"{m.group(1)} is" if m.group(1) else f"{m.group(2)}'s", text)


def _kind(text: str) -> tuple[Kind, AnswerType]:
    text = _written_out(text)
    whole = _FRONTED_CLAUSE_RE.sub("", text.strip())
    t = _FRONTED_TOPIC_RE.sub("", whole)
    if _ABOUT_DOC_RE.search(t):
        return "about_document", "statement"
    if (
        _SOURCE_RE.search(t)
        or _ONLY_SOURCE_RE.match(t)
        or _FOOTNOTE_NUMBER_RE.search(whole)
        or _SOURCE_WORD_RE.search(t)
    ):
        return "which_source", "source"
    if _REACTION_RE.search(t):
        return "reaction", "reaction"
    if _WHY_RE.search(t):
        return "why", "reason"
    if _WHEN_RE.search(t):
        return "when", "date"
    if _HOW_MANY_RE.search(t):
        return "how_many", "number"
    if _WHERE_RE.search(t):
        return "where", "place"
    if _QUOTATION_RE.search(t):
        return "quotation", "quote"
    if _NAME_OF_RE.search(t):  # "What is the name of the envoy?" asks for a name, not a definition
        return "who", "person"
    if _WHO_RE.search(t) or _WHO_WHICH_RE.search(t):
        if _DEFINITION_RE.search(t) and not re.search(r"\bwho\b", t, re.I):
            return "definition", "definition"
        return "who", "person"
    if _LIST_RE.search(t):
        return "list", "list"
    if _HOW_RE.search(t):
        return "how", "manner"
    # a short question asks what a thing is, read as written: "The reasons — what were they?" asks no definition
    if _DEFINITION_RE.search(whole) and len(content_words(whole)) <= 5:
        return "definition", "definition"
    if _YES_NO_RE.search(t):
        return "yes_no", "statement"
    return "what", "statement"


def _numbers(text: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """(years, numbers written in digits, counts written in words, months)."""
    years = list(dict.fromkeys(m.group(1) for m in _YEAR_RE.finditer(text)))
    nums: list[str] = []
    for m in _NUMBER_RE.finditer(text):
        value = m.group(1).replace(",", "")
        if value in years or _FOOTNOTE_NUMBER_RE.search(text[max(0, m.start() - 12) : m.end()]):
            continue
        if len(value) <= 2 and not m.group(2) and _beside_a_month(text, m.start(), m.end()):
            continue  # "in Sept 24, ...", "March 22?", "on 4 May": a day, or a year written short; no figure
        if not m.group(2) and _rough(text, m.start(), m.end()):
            continue  # "the 20-odd groups", "some 300 staff": a rough number
        nums.append(value + ("%" if m.group(2) else ""))
    counts = [  # "the two factors"; not "one" (a pronoun as often as a number) nor ordinals
        str(NUMBER_WORDS[w])
        for w in words(text)
        if w in NUMBER_WORDS
        and w not in ("one", "dozen", "hundred")
        and not w.endswith(("st", "nd", "rd", "th"))
    ]
    found = [  # (where, month), to keep the order the question names them in
        (m.start(), w)
        for m in re.finditer(r"[A-Za-z]+", text)
        if (w := m.group(0).lower()) in MONTHS and w not in _VERB_MONTHS
    ]
    found += [(m.start(), (m.group(1) or m.group(2)).lower()) for m in _VERB_MONTH_RE.finditer(text)]
    found += [(m.start(), _MONTH_OF[m.group(1).lower()]) for m in _SHORT_MONTH_RE.finditer(text)]
    months = [w for _, w in sorted(found)]
    return years, list(dict.fromkeys(nums)), list(dict.fromkeys(counts)), list(dict.fromkeys(months))


def _beside_a_month(text: str, start: int, end: int) -> bool:
    """The number at text[start:end] is a day or a short year: a month's name stands right after it ("4 May"),
    or right before it and no counted noun after it ("Sept 24, 2023", "in June 24 about", "the oct 24 summit";
    not "In May 40 soldiers", "in June 30 new members", "in Jan 5 people")."""
    if _MONTH_AFTER_RE.match(text, end):
        return True
    if not _MONTH_BEFORE_RE.search(text[:start]):
        return False
    if _AFTER_A_DAY_RE.match(text, end):
        return True
    m = _NEXT_TWO_WORDS_RE.match(text, end)
    plural = m is not None and any(_plural(w) for w in m.groups() if w)
    return int(text[start:end]) <= _DAYS_IN_A_MONTH and not plural


def _plural(word: str) -> bool:
    """The word is a noun in the plural, by its form: an -s that is no -ss, -us or -is ("crisis"), or a plural
    without one ("people")."""
    w = word.lower()
    return w in _IRREGULAR_PLURALS or (w.endswith("s") and not w.endswith(("ss", "us", "is")))


def _rough(text: str, start: int, end: int) -> bool:
    """The number at text[start:end] is given as a rough one: "some 300", "about 12" (not "say about 12"),
    "~300", "20-odd", "40-plus", "40+", "30 or so"."""
    before = text[:start]
    if _ROUGH_BEFORE_RE.search(before) and not _ABOUT_AS_PREPOSITION_RE.search(before):
        return True
    return bool(_ROUGH_AFTER_RE.match(text, end))


def years_in(text: str) -> frozenset[str]:
    """The years a text names, a decade by its first year ("the 1990s" -> "1990")."""
    return frozenset(m.group(1) for m in _YEAR_RE.finditer(text))


def months_in(text: str) -> frozenset[str]:
    """The months a text names, in full or short before a day or a year ("Sept. 2023" -> "september"); a
    verb "may" or "march" counts too: what a passage states is read leniently."""
    found = {w for w in words(text) if w in MONTHS}
    return frozenset(found | {_MONTH_OF[m.group(1).lower()] for m in _SHORT_MONTH_RE.finditer(text)})


def inflections(name: str) -> list[str]:
    """English inflections a name may take in prose: 'Italian' -> 'Italy', 'Japanese' -> 'Japan',
    'Iraqi' -> 'Iraq', 'Kenyans' -> 'Kenya'. Candidates only: the caller keeps those its corpus uses."""
    w = name
    out: list[str] = []
    if w.endswith("s") and len(w) > 4 and not w.endswith("ss"):
        w = w[:-1]
        out.append(w)
    for suffix, repl in (
        ("ian", "ia"),
        ("ian", ""),
        ("ian", "y"),
        ("an", "a"),
        ("an", ""),
        ("ese", "a"),
        ("ese", ""),
        ("i", ""),
        ("ish", ""),
        ("ish", "ey"),
        ("ic", ""),
        ("ic", "y"),
    ):
        if w.lower().endswith(suffix) and len(w) - len(suffix) >= 3:
            out.append(w[: len(w) - len(suffix)] + repl)
    for suffix in ("ia", "a", "y", ""):  # and back: 'Italy' -> 'Italian'
        if w.lower().endswith(suffix) and len(w) - len(suffix) >= 3:
            stem = w[: len(w) - len(suffix)] if suffix else w
            out += [stem + "ian", stem + "an", stem + "ese", stem + "i"]
    return [x for x in dict.fromkeys(out) if x.lower() != name.lower()]


def _names_no_one(token: str) -> bool:
    """A title ("Mr", "Dr") or a function word's contraction ("I've", "We'd", "You're"): capitalised, and no name."""
    if token.lower().rstrip(".") in _TITLES and not token.rstrip(".").isupper():
        return True
    m = re.fullmatch(r"([A-Za-z]+)['’](?:ve|d|m|re|ll|s|t)", token)
    return bool(m and m.group(1).lower() in FUNCTION_WORDS)


def entities(
    text: str,
    vocabulary: Vocabulary | None = None,
    known: Callable[[str], bool] | None = None,
    other_names: Callable[[str], list[str]] | None = None,
    common: Callable[[str], bool] | None = None,
    same_as: Callable[[str], list[str]] | None = None,
) -> list[Entity]:
    """Capitalised names and acronyms, not counting a capital that only starts the sentence, nor a month
    (a date: `_numbers` reads it). `known` tells whether the corpus uses a name: inflections are kept only
    where it does, and `Entity.known` is set. `common(word)`: the corpus writes the word in lower case, so at
    the start of a sentence its capital names nothing ("Need the date...", "Member wants a number: ...").
    `same_as(name)`: the other half of an acronym the documents define (`Entity.same_as`)."""
    out: list[Entity] = []
    for m in _ENTITY_RE.finditer(text):
        phrase = re.sub(r"['’]s$", "", m.group(0)).strip(" -'’")
        if re.search(r"['’]s\s", phrase):  # "Zenda's GDP": the thing owned is the name asked about
            phrase = re.split(r"['’]s\s+", phrase)[-1]
        toks = phrase.split()
        # a sentence-initial capital is no name unless it is one ("When", "What", "The", "Did")
        while toks and (toks[0].lower() in _QUESTION_WORDS | STOPWORDS or _names_no_one(toks[0])):
            toks = toks[1:]
        while toks and toks[-1].lower() in STOPWORDS:
            toks = toks[:-1]
        if not toks:
            continue
        phrase = " ".join(toks)
        start = m.start() + m.group(0).find(toks[0])  # "Did Zenda join?": Zenda does not start the sentence
        at_start = start == 0 or text[:start].rstrip().endswith(("?", ".", "!", ":", '"', "“"))
        if (
            at_start
            and len(toks) == 1
            and not toks[0].isupper()
            and (
                toks[0].lower() in _COMMON_START
                or toks[0].lower() in FUNCTION_WORDS  # "Per the envoy, ...", "Via Strelsau, ..."
                or (common is not None and common(toks[0]))
            )
        ):
            continue
        if len(toks) == 1 and not toks[0].isupper() and _is_month(toks[0], text[m.end() :]):
            continue
        if re.search(r"\bin\s+(?:plain|simple)[\s-]+$|\bplain-$", text[: m.start()], re.I):  # "in plain English"
            continue
        if phrase.lower() in {e.text.lower() for e in out}:
            continue
        # a city the documents never write, named as a place, is not mentioned where they name its state; one
        # they write is its own mention, and its state's name still helps find it (measured: dropping it for
        # "in <city>" lost facts, leave-one-writer-out)
        place = _a_place(text, start, m) and not (known is not None and known(phrase))
        variants = vocabulary.variants(phrase, place) if vocabulary else []
        if known is not None:
            # its inflections, and those of a one-word name it stands for ("Strelsau" for Ruritania: "Ruritanian")
            variants += [v for n in (phrase, *(a for a in variants if " " not in a)) for v in inflections(n) if known(v)]
            if re.fullmatch(r"[A-Z]\w+-[a-z]+", phrase):  # "Ruritania-led": "Ruritanian-led", and Ruritania itself
                head, tail = phrase.split("-")
                variants += [f"{v}-{tail}" for v in inflections(head) if known(f"{v}-{tail}")]
                variants += [v for v in (head, *inflections(head)) if known(v)]
        if other_names is not None:  # the corpus's own spelling of it, or the name its initials stand for
            variants += other_names(phrase)
        names = [phrase, *variants]
        out.append(
            Entity(
                text=phrase,
                variants=list(dict.fromkeys(variants)),
                same_as=same_as(phrase) if same_as is not None else [],
                known=None if known is None else any(known(n) for n in names),
            )
        )
    return out


# where a city is named as a place, not for its government, on positive evidence only: what happens or stands
# there before "in" or "at" ("the meetings in Strelsau", "held at Strelsau", "an embassy in Strelsau"), or
# after it ("the Strelsau talks", "the 2019 Strelsau accord"); not "angry at Strelsau", "faith in Strelsau",
# "the thinking in Strelsau", "Will Strelsau process it?", where the city is its government
_EVENTS = (
    r"meetings?|talks|summits?|conferences?|rounds?|process|agreements?|accords?|declarations?|forums?|"
    r"dialogues?|negotiations|consultations|sessions?|gatherings?"
)
_HAPPENS_AT_RE = re.compile(
    rf"\b(?:{_EVENTS}|embass(?:y|ies)|ambassadors?|consulates?|missions?|held|hosted|met|meet|meets|convened|"
    rf"gathered|signed|happened|took place|opened|reopened)\s+(?:\w+\s+)?(?:in|at)\s+(?:the\s+)?"
    # earlier cities joined to this one: "the talks in Zenda and Strelsau"
    r"(?:[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*\s*(?:,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+))*$",
    re.I,
)
_EVENT_AFTER_RE = re.compile(rf"\s+(?:{_EVENTS})\b", re.I)
_DETERMINED_RE = re.compile(r"\b(?:the|a|an|this|that|its|their|\d{4})\s+$", re.I)


def _a_place(text: str, start: int, m: re.Match[str]) -> bool:
    """The name matched at `m` (its first word at `start`) is named as a place: where something is or
    happens."""
    if re.search(r"['’]s$", m.group(0)):
        return False  # "in Strelsau's view": its government's
    before = text[:start]
    if _EVENT_AFTER_RE.match(text, m.end()) and _DETERMINED_RE.search(before):
        return True  # "the Strelsau talks", not "Will Strelsau process the request?"
    return bool(_HAPPENS_AT_RE.search(before))


# Capitalised words that start a question without naming anything: discourse markers and the imperative
# verbs a request opens with ("Take the first one...", "Compare ...").
_COMMON_START = frozenset(
    """tell list name give define describe explain please according besides apart also then so now since
    need needs want wants wanted plain
    given bottom overall briefly basically honestly actually ok okay well yes no quick short roughly summing
    summarise summarize looking thinking compared considering regarding concerning say suppose take
    consider look compare assume imagine show help remind walk go back isn't wasn't aren't doesn't didn't
    hasn't haven't let lets run break sum spell talk fill catch""".split()  # noqa: SIM905
)


def is_follow_up(question: str) -> bool:
    short = len([w for w in content_words(question) if w not in SCAFFOLD]) <= 3
    counts = bool(_POINTER_RE.search(question))  # "the third one you listed", "the last of those", "the latter"
    return bool(
        _FOLLOW_START_RE.match(question)
        or _ANAPHORA_RE.search(question)
        or counts
        or (short and not entities(question))
    )


# ---------------------------------------------------------------- follow-ups that point into the last answer

_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "former": 1}
_LAST = ("last", "final", "latter")
# "the second one", "the last of those", "the first group you mentioned", "the latter": an ordinal that points
# at an item of a list; not "its fifth meeting", an ordinal of the question's own subject
# ... or an ordinal alone as the subject of a question with an auxiliary, its verb next: "What does the
# second require?", "Why did the first fail?", "What did the last cost them?". A verb after "do" has its
# bare form (no plural "-s") and ends the question or takes an object; a noun after the ordinal is followed
# by its verb or by a preposition ("Did the second round fail?", "Why did the first attempt to settle
# fail?", "What did the last census in Zenda show?"), which leaves the ordinal the question's own
_SUBJECT_ORDINAL = (
    r"(?:"
    + "|".join(rf"(?<=\b{aux} )" for aux in ("do", "does", "did", "will", "would", "can", "could", "should"))
    + r")(?:the|that|this)\s+(first|second|third|fourth|fifth|sixth|last|final)"
    r"(?=\s+(?!(?:of|in|on|at|for|to|from|with|by|and|or|one|ones)\b)[a-z]+(?<![^su]s)"
    r"(?:\s*(?:[?.!]|$)|\s+(?:the|a|an|it|them|him|her|what)\b))"
)
_ORDINAL_RE = re.compile(
    r"\b(?:the|that|this)\s+(first|second|third|fourth|fifth|sixth|last|final|latter|former)"
    r"(?:\s+(?:one|ones)\b(?:\s+of\s+(?:them|those|these)\b)?"
    r"(?:\s+(?:you|it|they|the answer)\s+(?:just\s+)?(?:mentioned|listed|named|gave|cited))?"
    r"|\s+of\s+(?:them|those|these|the\s+\w+)\b"
    r"|\s+[a-z]+\s+(?:you|it|they|the answer)\s+(?:just\s+)?(?:mentioned|listed|named|gave|cited)\b"
    r"|(?=\s*[?,.;:!—-]|\s*$|\s+(?:and|but|or|on|in|from|to|for)\b))|"
    + _SUBJECT_ORDINAL,
    re.I,
)
# an ordinal that can only point back into an earlier answer: "the second one", "the last of those", "the first
# group you mentioned", "the latter"; not "the last of the troops" or "the first of the reforms", which name
# their own list
_POINTER_RE = re.compile(
    r"\b(?:the|that|this)\s+(?:(?:first|second|third|fourth|fifth|sixth|last|final)\s+(?:ones?\b|of\s+(?:them|"
    r"those|these)\b|[a-z]+\s+(?:you|it|they|the answer)\s+(?:just\s+)?(?:mentioned|listed|named|gave|cited)\b)|"
    r"(?:latter|former)\b)|"
    + _SUBJECT_ORDINAL,
    re.I,
)
# "that figure", "this report", "those countries", "these institutions": a demonstrative and its noun
_DEMONSTRATIVE_RE = re.compile(
    r"\b(?:that|this|those|these)\s+(?:(?:two|three|four|five|six|several|many)\s+)?([a-z]+)\b", re.I
)
_FIGURE_NOUNS_RE = re.compile(
    r"^(?:figure|number|amount|sum|total|percentage|share|estimate|count|statistic)s?$", re.I
)
_QUANTITY_RE = re.compile(
    r"(?:[$€£]\s?)?\d[\d,.]*(?:\s?(?:%|percent|per cent|billion|million|thousand))?(?:\s+[a-z]+)?|"
    r"\b(?:two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|thirty|hundreds?|thousands?|millions?|"
    r"billions?|dozens?)\b(?:\s+[a-z]+)?",
    re.I,
)
# "Who said that?", "When was that?", "Why?": the question is about the last answer's statement as a whole
# "the source for that?", "is this based on", "that claim": what points back at the last answer as a whole
_BACK_RE = re.compile(
    r"\b(?:that|this|it|those|these|them)\b(?=\s*(?:[?.!,;]|$)|\s+(?:from|based|come|comes|came|and)\b)|"
    r"\b(?:that|this|those|these) (?:claims?|statements?|figures?|numbers?|facts?|points?)\b",
    re.I,
)
# a follow-up that asks nothing but the source, with no subject of its own ("What is its source?", "Which
# publication?", "And sourced to what?", "Its source?", "Source?")
_ONLY_SOURCE_RE = re.compile(
    r"^\s*(?:and|so|ok(?:ay)?|right)?[\s,]*"
    r"(?:what(?:['’]s| is| was| are)\s+(?:the|its|their|his|her)\s+(?:\w+\s+)?sources?|"
    r"(?:(?:its|the|their)\s+)?sources?|"
    r"which\s+(?:\w+\s+)?(?:source|sources|document|doc|report|record|publication|footnote|reference)|"
    r"(?:what(?:['’]s| is| was)\s+(?:that|this|it)\s+)?(?:sourced|based)\s+(?:to|from|on)(?:\s+what)?)"
    r"\s*[?.!]*\s*$",
    re.I,
)
_ABOUT_STATEMENT_RE = re.compile(r"\b(?:that|this|it|so)\s*[?.!]*\s*$", re.I)
_MARKER_RE = re.compile(r"\s*\[\d+\]\s*")
_ENTRY_RE = re.compile(r"^\d+\.\s")  # a reference-list entry as an answer writes it: "46. Zenda's envoy, ..."
# what an answer to a question of sources adds where its sentences carry no footnote (answer.compose)
NO_FOOTNOTE = "The paper gives no footnote for this."


def answer_sentences(messages: Sequence[Message]) -> list[str]:
    """The sentences of the assistant's last answer before the question, as the service wrote them (each
    ended by its passage marker [n]; named sources, or the note that there are none, dropped); none when there
    is no earlier answer or it said the documents don't say."""
    for m in reversed(messages[:-1]):
        if m.role == "assistant":
            text = m.content.split(" Source: ")[0].replace(NO_FOOTNOTE, " ")
            if text.startswith(("The documents don't say", "I only answer")):
                return []
            return [" ".join(t.split()) for t in _MARKER_RE.split(text) if t.strip()]
    return []


_LINK_WORDS = frozenset("the of on for and in de al among between to with a an".split())  # noqa: SIM905
# before an opener ("A, B, especially C and D"), an item is a few words; a longer piece is the clause the list
# belongs to ("the presence of groups in Zenda, in particular ...")
_OPENED_ITEM_WORDS = 4
# words inside a clause that open the list after them ("the presence of groups, in particular A and B, ...")
_LIST_OPENS_RE = re.compile(r"^(?:.*?\s)?(?:in particular|particularly|notably|especially|such as|including|namely)\s+", re.I)
_INTRODUCER_RE = re.compile(r"^.*?\b(?:include|includes|included|including|such as|namely|are|were)\s+|^.*:\s*")
# a piece that opens with a preposition, a relative word or a sentence adverb is an adjunct ("At the regional
# level, we must weigh A and B", "The report, which the council read, warned that A and B", "First, despite
# the rhetoric, C and D ..."): no item of a list whose items do not open so; the list starts after it
_ADJUNCT_RE = re.compile(
    r"^(?:at|in|on|for|with|without|during|despite|after|before|since|from|by|under|over|among|between|through|"
    r"within|against|toward|towards|upon|unlike|like|first|second|third|fourth|finally|lastly|however|moreover|"
    r"furthermore|meanwhile|nevertheless|instead|indeed|thus|hence|therefore|which|who|whom|whose|where|when|"
    r"while|whereas|although|though|because|if|unless|once)(?![\w-])",  # not "over-fishing", "in-kind aid"
    re.I,
)
# "Between A, B and C, ...": a preposition whose object is the list itself, so its first item is in the opener
_LIST_PREPOSITION_RE = re.compile(r"^(?:between|among|amongst)\s+", re.I)
_NAME_RUN_RE = re.compile(r"(?:(?:the\s+)?[A-Z][\w'’().-]*(?:\s+(?:of|on|for|and|de|al|the)?\s*[A-Z][\w'’().-]*)*)")


# what closes a list without being an item of it: "... and many others", "..., etc.", ", among others"
_MANY = r"(?:(?:many|several|numerous|various|some|a few|a number of)\s+)?"
_EXAMPLES_RE = re.compile(r"\b(?:such as|including|namely)\s+$", re.I)
_RELATIVE_RE = re.compile(r"(?:which|who|whom|whose)\b", re.I)
_AND_THEN_RE = re.compile(r"(?:^|\s)(?:and|or)\s+(.+)$")  # what follows a list's "and"
_OTHERS_RE = re.compile(rf"^{_MANY}(?:others|more)$|^etc\.?$|^so (?:on|forth)$|^among others$", re.I)
_OTHERS_TAIL_RE = re.compile(
    rf",?\s+(?:and|or)\s+{_MANY}(?:others|more)$|,?\s+etc\.?$|,?\s+and so (?:on|forth)$|,?\s+among others$", re.I
)


def _without_tail(items: list[str]) -> tuple[list[str], bool]:
    """The items without what closes the list ("many others", "etc."), and whether anything did."""
    closed = False
    while items and _OTHERS_RE.match(items[-1]):
        items, closed = items[:-1], True
    return items, closed


def _name_like(piece: str) -> bool:
    """A list item that is a name: it opens with a capital (after 'the') and has at most two other lower-case
    words ('the Foreign Ministers' Meetings among neighbouring countries' is; 'it goes against...' is not)."""
    ws = piece.split()
    if ws and ws[0].lower() == "the":
        ws = ws[1:]
    if not ws or not ws[0][:1].isupper():
        return False
    # a number is no word of a name either ("Zenda met on July 3, 2023 with Strelsau" is a clause)
    return sum(1 for w in ws if (w[:1].islower() and w.lower() not in _LINK_WORDS) or w[:1].isdigit()) <= 2


# the comma of a date written "July 3, 2023", "Oct. 4th, 2021", "3 July, 2023" or "July, 2023": no list's
_DATE_WORDS = (
    rf"(?:{_MONTH_WORD}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH_WORD}\.?|"
    rf"{_MONTH_WORD}\.?)"
)
_DATE_COMMA_RE = re.compile(rf"\b{_DATE_WORDS}(,)\s+\d{{4}}\b(?=(\s+\w)?)")
# a date that opens its sentence ("On July 3, 2023 Zenda ...") ends where its year does, comma or not
_WEEKDAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_RANGE_JOIN = r"(?:and|to|until|through)"  # "May 1, 2020 and June 2, 2021"
_OPENING_RE = re.compile(
    r"^\s*(?:(?:on|in|as of|by|since|until|from|after|before|following|between)\s+)?"
    rf"(?:{_WEEKDAY},?\s+)?(?:{_DATE_WORDS},?\s+\d{{4}}\s+{_RANGE_JOIN}\s+)?$",
    re.I,
)
_RANGE_ON_RE = re.compile(rf"\s+{_RANGE_JOIN}\s+{_DATE_WORDS},?\s+\d{{4}}\b", re.I)
# a piece that is only a date or a weekday ("On Monday, July 3, 2023, A, B and C met"): no list's item
_DATE_PIECE_RE = re.compile(
    rf"(?:(?:on|in|by|since|until|after|before|following)\s+)?(?:{_DATE_WORDS},?\s+\d{{4}}|{_WEEKDAY})|"
    rf"(?:between|from)\s+{_DATE_WORDS},?\s+\d{{4}}\s+{_RANGE_JOIN}\s+{_DATE_WORDS},?\s+\d{{4}}",
    re.I,
)


def _comma_pieces(text: str) -> list[str]:
    """The text split at its commas, but for a date's; a date that opens the text ends its piece where its
    year does ("On July 3, 2023, Zenda ..." and "On July 3, 2023 Zenda ...": "On July 3, 2023", "Zenda
    ..."); each piece stripped; no empty piece."""
    dates = list(_DATE_COMMA_RE.finditer(text))
    within = {m.start(1) for m in dates}
    after = {  # not inside a range ("Between May 1, 2020 and June 2, 2021, ...")
        m.end()
        for m in dates
        if m.group(2) and _OPENING_RE.match(text[: m.start()]) and not _RANGE_ON_RE.match(text[m.end() :])
    }
    cuts = [(m.start(), m.end()) for m in re.finditer(r",\s+", text) if m.start() not in within]
    pieces, start = [], 0
    for begin, end in sorted(cuts + [(a, a) for a in after]):
        pieces.append(text[start:begin])
        start = end
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


def _list_in(sentence: str) -> list[str]:
    """The items of the list one sentence gives, in order; [] when it gives none."""
    sentence = sentence.rstrip(" .")
    body = sentence.split(":", 1)[1] if ":" in sentence else sentence
    if ";" in body:  # "three mechanisms: A; B; and C"
        items = [re.sub(r"^(?:and|or)\s+", "", p.strip(" ,;")) for p in body.split(";")]
        return _without_tail([i for i in items if i])[0]
    pieces = _comma_pieces(body)
    # "A, B and C, which were born in, and still raid, the hills": a relative clause after the list's "and"
    # says something of its items and is no item, unless more names follow it ("Zenda and Strelsau, which
    # border each other, trade with A, B and C": that list is the one after it)
    rel = next((i for i, p in enumerate(pieces) if i and _RELATIVE_RE.match(p)), None)
    if (
        rel is not None
        and any(re.search(r"(?:^|\s)(?:and|or)\s", p) for p in pieces[:rel])
        and not any((m := _AND_THEN_RE.search(p)) and _name_like(m.group(1)) for p in pieces[rel + 1 :])
    ):
        pieces = pieces[:rel]
    if len(pieces) >= 3 and re.fullmatch(r"etc\.?", pieces[-1], re.I):  # "A, B, C, etc."
        pieces = pieces[:-1]
        if not any(re.search(r"(?:^|\s)(?:and|or)\s", p) for p in pieces):  # read as "A, B, and C"
            pieces[-1] = f"and {pieces[-1]}"
    last = max((i for i, p in enumerate(pieces) if re.search(r"(?:^|\s)(?:and|or)\s", p)), default=None)
    if last is None or (last == 0 and not re.match(r"(?:and|or)\s", pieces[0])):
        if last == 0:  # "A and B" alone is a pair only after a colon or an introducing verb
            pair = re.split(r"\s+(?:and|or)\s+", pieces[0], maxsplit=1)
            if len(pair) == 2 and (":" in sentence or _INTRODUCER_RE.match(sentence)):
                first = _INTRODUCER_RE.sub("", pair[0])  # "Groups such as A and B": A, not "Groups such as A"
                second = pair[1]
                if _name_like(first) and (m := _NAME_RUN_RE.match(second)):
                    second = m.group(0)  # "the Black Hand—a ... affiliate" -> "the Black Hand"
                return [first, second]
        return []
    tail = pieces[last]
    if re.match(r"(?:and|or)\s", tail):  # "..., B, and C": the Oxford comma
        before, after = pieces[last - 1], tail.split(maxsplit=1)[1]
        start = last - 1
    else:
        before, after = re.split(r"\s+(?:and|or)\s+", tail, maxsplit=1)
        start = last
    # "..., in particular A and B, is ...", "A, B, especially C, and D": the opener is no part of the item, and a
    # clause before it that is no item of the same kind is where the list starts
    opened = _LIST_OPENS_RE.match(before)
    if opened:
        before = before[opened.end() :]
    names = _name_like(before)
    if not names and len(before.split()) > 12:  # a clause, not a list item
        return []
    if names:  # the last item runs as far as the names do ("Zenda—the three states ..." -> "Zenda")
        m = _NAME_RUN_RE.match(after)
        if m:  # a name made an adjective keeps its noun: "the Andes-based bloc", not "the Andes-based"
            noun = re.match(r"\s+[a-z]+", after[m.end() :]) if re.search(r"-[a-z]+$", m.group(0)) else None
            after = after[: m.end() + (noun.end() if noun else 0)]
    items = [before, after]
    earlier = pieces[:start]
    if opened and ":" not in sentence and not any(_INTRODUCER_RE.match(p) for p in earlier):
        earlier = []  # "In 2019, the risks, especially drugs and arms, grew": the list starts at its opener
    for p in reversed(earlier):
        if _DATE_PIECE_RE.fullmatch(p) and not _DATE_PIECE_RE.fullmatch(before):  # a date, unless of dates
            break
        intro = _INTRODUCER_RE.match(p)
        if intro:
            items.insert(0, p[intro.end() :])
            break
        if _ADJUNCT_RE.match(p) and not _ADJUNCT_RE.match(before):
            among = _LIST_PREPOSITION_RE.match(p)
            if among and not opened and len(p[among.end() :].split()) <= 12:  # "Between trade, defence and ..."
                items.insert(0, p[among.end() :])
            break
        if names and not _name_like(p):
            found = _NAME_RUN_RE.findall(p)
            if found and p.rstrip().endswith(found[-1]) and not opened:
                items.insert(0, found[-1])
            break
        if len(p.split()) > (_OPENED_ITEM_WORDS if opened else 12):
            break
        items.insert(0, p)
    items = [re.sub(r"^(?:and|or)\s+", "", i.strip(" ,;—-")) for i in items]
    # "A, B, C and many others": the list ends at C; "A, B and others" is a list of three, two of them named
    items, closed = _without_tail([i for i in items if i])
    # two names that give examples of a plural are a list too ("groups such as the Black Hand and the RPL");
    # not two singled out of one ("groups, in particular the Red Band and the Blue Band, are a factor")
    examples = opened is not None and bool(_EXAMPLES_RE.search(opened.group(0)))
    two = examples and len(items) == 2 and all(_name_like(i) for i in items)
    return items if len(items) + closed >= 3 or ":" in sentence or two else []


def _as_sentences(text: Sequence[str] | str) -> list[str]:
    """An answer's sentences: as given, or its text split by `sentences_of`."""
    return sentences_of(text) if isinstance(text, str) else list(text)


def _longest_list(sentences: Sequence[str] | str) -> tuple[list[str], str]:
    """The items of the longest list the sentences give, and the sentence that gives it."""
    best: list[str] = []
    where = ""
    for sentence in _as_sentences(sentences):
        items = [i for i in _list_in(sentence) if 0 < len(i.split()) <= 40]
        if len(items) > len(best):
            best, where = items, sentence
    return best, where


def enumeration(sentences: Sequence[str] | str) -> list[str]:
    """The items of the longest list the sentences give ('three mechanisms: A; B; and C', 'A, B and C',
    'These include A, B and C'), in order."""
    return _longest_list(sentences)[0]


def counted_in(question: str, sentences: Sequence[str]) -> list[str]:
    """The sentence of the last answer whose list an ordinal of the question counts in ("the second one"),
    when it only names: every item a name and nothing said of them after the last ('These include A, B and
    C.'). It named the item the question asks about and is no answer to that question. [] when nothing is
    counted, or the list says something of its items ('A and B are on the list, with the latter ...')."""
    m = _ORDINAL_RE.search(question)
    if not m or not sentences or not _POINTER_RE.search(question):
        return []
    items, where = _longest_list(sentences)
    word = (m.group(1) or m.group(2)).lower()
    n = len(items) if word in _LAST else _ORDINALS.get(word, 0)
    if not 1 <= n <= len(items):
        return []
    ending = _OTHERS_TAIL_RE.sub("", where.rstrip(" ."))  # "... and many others" names no more
    names_only = all(_name_like(i) for i in items) and ending.endswith(items[-1])
    return [where] if names_only else []


# a sentence that counts itself into a series: "First, ...", "Secondly, ...", "The second—and this ...—is that",
# "The first has to do with ..." (the ordinal is the subject, with no noun of its own); "Finally, ..." ends one
_SERIES_RE = re.compile(
    r"^(?:(first|second|third|fourth|fifth|sixth)(?:ly)?\s*,\s*"
    r"|the\s+(first|second|third|fourth|fifth|sixth)(?=\s*[—–,]|\s+(?:is|was|are|were|has|had|have)\b)"
    r"|(finally|lastly)\s*,\s*)",
    re.I,
)


_ASIDE_RE = re.compile(r"\s*[—–][^—–]+[—–]\s*")  # "—and this is especially true of Zenda—"


def series(sentences: Sequence[str]) -> list[str]:
    """The sentences that make a counted series ("First, ...", "Second, ...", "Third, ..."; "The first has to
    do with ...", "The second is that ..."), in order, from the first to where the count stops; [] when no
    series of two or more opens with its first. Sentences between the counted ones are no items."""
    best: list[str] = []
    for start, sentence in enumerate(sentences):
        m = _SERIES_RE.match(sentence)
        if not m or _ORDINALS.get((m.group(1) or m.group(2) or "").lower()) != 1:
            continue
        items = [sentence]
        for later in sentences[start + 1 :]:
            m = _SERIES_RE.match(later)
            if not m:
                continue
            word = (m.group(1) or m.group(2) or "").lower()
            if m.group(3) and len(items) >= 2:  # "Finally, ..." is the last of the series
                items.append(later)
                break
            if _ORDINALS.get(word) != len(items) + 1:
                break
            items.append(later)
        if len(items) >= 2 and len(items) > len(best):
            best = items
    return best


def _clip(text: str, n: int) -> str:
    return " ".join(text.split()[:n])


_ITEM_WORDS = 14  # a list item put in the question's place whole: a longer one is cut where a clause ends


def _item_name(item: str) -> str:
    """A list item as the question names it: whole when short; a long one ("a contact group, linked to the
    large group, charged with continuous engagement with all the stakeholders") up to the last comma or dash
    within _ITEM_WORDS words ("a contact group, linked to the large group"), not cut inside a clause."""
    item = item.lstrip("—–- ")
    if len(item.split()) <= _ITEM_WORDS:
        return item
    clipped = _clip(item, _ITEM_WORDS).rstrip(",;")
    ends = [m.start() for m in re.finditer(r",\s|\s[—–-]\s|—", clipped) if m.start() > 0]
    return clipped[: ends[-1]].strip() if ends else clipped


def _counted(
    question: str, items: list[str], sentences: list[str], paragraphs: Sequence[str]
) -> tuple[re.Match[str], str] | None:
    """The ordinal of the question and the item it counts: in `items`, the list the last answer (`sentences`)
    gives; else, when the question can only point back ("the last of those"), in the counted series ("First,
    ... Second, ...") or the list of the paragraphs the answer was taken from, which it may have shown only in
    part."""
    m = _ORDINAL_RE.search(question)
    if not m:
        return None
    word = (m.group(1) or m.group(2)).lower()
    lists = [items]
    if _POINTER_RE.search(question):
        lists += [series(paragraphs or sentences), enumeration(paragraphs)]
    for items in lists:
        n = len(items) if word in _LAST else _ORDINALS.get(word, 0)
        if 1 <= n <= len(items):
            # a counted sentence without its count and its aside: "The second—and this is true of Zenda—is
            # that fees rose" -> "is that fees rose"
            item = _SERIES_RE.sub("", _ASIDE_RE.sub(" ", items[n - 1]), count=1)
            return m, item.strip(" .")
    return None


# the word before a noun that belongs to its phrase: a word (a quotation mark before it dropped) or an
# initialism ("U.S."); not a number in figures, a bracket, nor the end of a clause or sentence ("2023.", "May,")
_JOINED_RE = re.compile(r"^[“\"‘]?([A-Za-z][\w'’-]*|(?:[A-Z]\.){2,})$")


def _noun_forms(noun: str) -> str:
    """A pattern for the noun as a word of its own, singular or plural: "report(s)", "agency"/"agencies",
    "process(es)"; not "reported", nor "act" inside "impact"."""
    if noun.endswith("ies"):
        base, forms = noun[:-3], "(?:y|ies)"
    elif noun.endswith("y"):
        base, forms = noun[:-1], "(?:y|ies)"
    elif noun.endswith(("ss", "us", "is")) or len(noun) <= 4:  # "process", "consensus", "analysis", "news"
        base, forms = noun, "(?:es)?"
    elif noun.endswith("s"):
        base, forms = noun[:-1], "(?:s|es)?"
    else:
        base, forms = noun, "(?:s|es)?"
    return rf"\b{re.escape(base)}{forms}\b"


def _noun_phrase(noun: str, answer: str) -> str:
    """What "that <noun>" points at in the last answer: the noun there, with the word before it where that word
    belongs to its phrase ("the assessment report", "Zenda's report"), else "the" and the noun in lower case;
    '' when the answer does not use the noun."""
    m = re.search(rf"(?:(\S+)\s+)?({_noun_forms(noun)})", answer, re.I)
    if m is None:
        return ""
    joined = _JOINED_RE.match(m.group(1) or "")
    word = joined.group(1) if joined and joined.group(1).lower() not in STOPWORDS else ""
    if word.lower() in NUMBER_WORDS:  # "those two sides": the count the answer gives, as a word in a sentence
        word = word.lower()
    if word.endswith(("'s", "’s")):  # a possessive takes no article
        return f"{word} {m.group(2)}"
    return f"the {word} {m.group(2)}" if word else f"the {m.group(2).lower()}"


def refer(question: str, answer: str | Sequence[str], paragraphs: Sequence[str] = ()) -> str:
    """The question with what points into the last answer replaced by what it points at: an ordinal by that
    item of the answer's list (or of the series or list in `paragraphs`, the last answer's paragraphs from
    where it quoted them), 'that figure' by the figure, 'that report' by 'the' and the answer's word before
    'report' ('the assessment report'), 'those countries' by the names it gives; the question unchanged when
    nothing points."""
    if not answer:
        return question
    sentences = _as_sentences(answer)
    items = enumeration(sentences)
    counted = _counted(question, items, sentences, paragraphs)
    answer = answer if isinstance(answer, str) else " ".join(answer)
    if counted:
        ordinal, item = counted
        rest = question[ordinal.end() :]
        # "the first of those countries": the item is the country, and replaces the noun too
        plural = re.match(r"\s+([a-z]+s)(?=\s*(?:[-—–,:;?]|$))", rest)
        if plural and re.search(r"\bof\s+\w+$", ordinal.group(0)) and plural.group(1).lower() not in STOPWORDS:
            rest = rest[plural.end() :]
        return f"{question[: ordinal.start()]}{_item_name(item)}{rest}"
    # the first demonstrative with a noun: in "that was", "this has" it is a pronoun, not "that figure"
    m = next((d for d in _DEMONSTRATIVE_RE.finditer(question) if d.group(1).lower() not in STOPWORDS), None)
    if m:
        noun = m.group(1).lower()
        found = ""
        if _FIGURE_NOUNS_RE.match(noun):
            found = next((q.group(0) for q in _QUANTITY_RE.finditer(answer)), "")
            while found and found.split()[-1].lower() in STOPWORDS:  # "$3.5 billion of the" -> "$3.5 billion"
                found = found.rsplit(maxsplit=1)[0] if " " in found else ""
        else:
            # the noun and the one word before it ("the assessment report"), not the answer's longer wording,
            # which pulls the answer's own sentence back up (measured, leave-one-writer-out on the fourteen
            # training writers, up to four words before it -> one: follow-ups 0.752 -> 0.769, footnote precision
            # 0.737 -> 0.742, facts 0.738 -> 0.740)
            phrase = _noun_phrase(noun, answer)
            if phrase:
                found = phrase
            elif noun.endswith("s") and items:  # "those countries": the names the answer listed
                found = ", ".join(_clip(i, 6) for i in items)
        if found:
            return f"{question[: m.start()]}{found.strip(' ,;.')}{question[m.end() :]}"
    return question


def resolve(
    messages: Sequence[Message], paragraphs: Callable[[Sequence[str]], list[str]] | None = None
) -> tuple[str, bool]:
    """The standalone question for the last user message, and whether it was completed from earlier turns.
    What points into the last answer ("the second one", "that figure", "who said that?", "they" after a
    who-question) is resolved against that answer; a follow-up about the same subject ("When did it create a
    contact group?") gets the names and topic of the last earlier user turn that has any. `paragraphs(sentences)`:
    the paragraphs the last answer's sentences were taken from, from the first of them on, where an ordinal
    ("the last of those") may count what the answer showed only in part. The server keeps no session: the
    history comes with each request."""
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
        return question, False
    sentences = answer_sentences(messages)
    answer = " ".join(sentences)
    shown = paragraphs(sentences) if paragraphs is not None and _POINTER_RE.search(question) else []
    pointed = refer(question, sentences, shown)
    if pointed != question:
        return pointed, True
    if answer and _ABOUT_STATEMENT_RE.search(question) and len(_focus(question)) <= 3:
        claim = _last_claim(messages)
        if claim:
            return _added(question, _clip(claim, 30)), True
    own = entities(question)
    first_name = min((question.find(e.text) for e in own if e.text in question), default=len(question))
    pronoun = _PERSONAL_PRONOUN_RE.search(question)
    replaces = bool(own) and not (pronoun and pronoun.start() < first_name)
    people = _PEOPLE_PRONOUN_RE.search(question)
    asked_before = _kind(earlier[-1])[1]
    if (
        people
        and people.start() < first_name
        and answer
        and (asked_before == "person" or (asked_before == "source" and _WROTE_RE.search(question)))
    ):
        # "Who wrote it?" then "When did they write it?": they are whom the last answer named; after a source
        # answer, its authors, where the question asks what they wrote or said (not "Do they still trade?")
        given = fold(earlier[-1].lower())
        them = [e.text for e in entities(answer) if fold(e.text.lower()) not in given][:_PEOPLE_NAMED]
        if them:
            return _added(question, ", ".join(them)), True
    for prev in reversed(earlier):
        names = [e.text for e in entities(prev)]
        named = {w for n in names for w in words(n)}
        topic = [  # a name's possessive ("Sweden's") is the name, not the topic
            w
            for w in content_words(prev)
            if w not in SCAFFOLD and w.removesuffix("'s") not in named and not w.isdigit() and w not in MONTHS
        ]
        # "What about Norway?" after a question about Sweden asks the same of another: keep the topic, not
        # the names it replaces; but a pronoun before the question's own names points back at the earlier
        # ones ("Does it trade with Norway?" after a question about a union; not "What about Norway, does it
        # agree?")
        context = topic[:6] if replaces else (names + topic)[:8]
        again = bool(_SAME_AGAIN_RE.search(question))
        if replaces and sentences and not _asks_its_own(question) and (topic or again):
            # "What about Norway?": the same question of another; the last answer says what such an answer
            # says in the documents' own words ("considers X a bigger menace"), which the reader's may not.
            # Not after a question with no topic of its own ("What does the paper say about Sweden?"): all the
            # answer says is said of Sweden and would lead "And Norway?" back to it; unless the follow-up asks
            # whether the same holds ("Is that true of Norway too?"), which points at what the answer said
            answered = {w for e in entities(answer) for w in words(e.text)}
            said = [
                w
                for w in content_words(sentences[0])
                if w not in SCAFFOLD
                and w.removesuffix("'s") not in answered
                and not w.isdigit()
                and w not in MONTHS
                and w not in context
            ]
            context = context + said[:_ANSWER_WORDS]
        if context:
            known = question.lower()
            context = [c for c in context if c.lower() not in known]
            return (_added(question, ", ".join(context)) if context else question), True
    return question, False


# "What about X?" asks the last question again of another; so do "What about X: same logic?" and "What
# about X, does it take the same line?"; "What about X: what's covered, and since when?" asks its own: a
# question word or an auxiliary opens a clause after the name (not "may", "will", "might", "shall", as often
# a month or a name, "What about X, May 2019?"; nor a second "what about"). A "same" word anywhere after the
# name reads as asking whether the same holds, even where it does not ("who was on the same side?")
_ANOTHER_RE = re.compile(r"^\s*(?:and |but |so |then )?(?:what|how) about\b", re.I)
_OWN_QUESTION_RE = re.compile(
    r"(?:[,;:—–?.!…/]|\s-+)\s*(?:and |but |so |then )?"
    r"(?:what|when|where|who|whom|whose|why|how|which|do|does|did|is|are|was|were|has|have|had|can|could|"
    r"would|should)\b(?!\s+about\b)(?!\s*\d)",
    re.I,
)
_SAME_AGAIN_RE = re.compile(
    r"\b(?:same|likewise|similar(?:ly)?|as well|also(?!,)|too(?=\s*(?:[?.!,]|$))|either(?=\s*(?:[?.!]|$)))",
    re.I,
)


def _asks_its_own(question: str) -> bool:
    """A "What about X" follow-up that asks a question of its own after the new name, not whether the same
    holds of it: it keeps the earlier question's topic but not the last answer's words, which would lead it
    back to the sentence that answered about the other. (Measured: the same for every follow-up that names
    its own subject, "Did X join?" too, lost facts and follow-ups to this one: eval/TRIED.md, 2026-12-07.)"""
    if not (m := _ANOTHER_RE.match(question)):
        return False
    rest = question[m.end() :]
    return bool(_OWN_QUESTION_RE.search(rest)) and not _SAME_AGAIN_RE.search(rest)


def _last_claim(messages: Sequence[Message]) -> str:
    """The first sentence of the latest answer that states something: "What does the author make of it?" after
    "Who's the source for that?" asks about what the source backs, not about the reference entry the last answer
    gave ("46. Zenda's envoy, ...", which a split at its full stop would leave as "46."); "" when none does."""
    for i in range(len(messages), 0, -1):
        said = answer_sentences(messages[:i])
        if said and not _ENTRY_RE.match(said[0]):
            start, end = split_sentences(said[0])[0]  # "U.S." and "Mr." end no sentence
            return said[0][start:end]
    return ""


def _focus(text: str) -> list[str]:
    """The content words that say what it is about; a month written short before a number ("sept 2021") as the
    month's name."""
    short = {m.group(1).lower() for m in _SHORT_MONTH_RE.finditer(text)}
    return list(
        dict.fromkeys(
            _MONTH_OF[w] if w in short else w
            for w in content_words(text)
            if w not in SCAFFOLD and not w.isdigit()
        )
    )


def _parts(standalone: str, stated: Sequence[str] = ()) -> list[Part]:
    """The question's parts; `stated`: its sentences that only state (see `premises`)."""
    # what `resolve` added to a follow-up, in brackets at the end, is one part that asks nothing, whatever
    # punctuation the earlier answer's words bring
    added = _ADDED_RE.search(standalone)
    if added and len(words(added.group(0))) < 3:
        added = None
    asked = standalone[: added.start()] if added else standalone
    pieces = [p.strip(" ,;?") for p in _PART_SPLIT_RE.split(asked)]
    pieces = [p for p in pieces if len(words(p)) >= 3]
    if not pieces or (len(pieces) < 2 and not added):  # one part: the whole question, with what was added
        pieces, added = [standalone], None
    parts = []
    for i, p in enumerate(pieces):
        own = _asked(p, stated)
        if i and own and _PERSONAL_PRONOUN_RE.search(p) and not entities(p):
            # "When was it set up, and what came of it?": "it" is what the part before names
            before = pieces[i - 1]
            names = [e.text for e in entities(before)]
            named = {w for n in names for w in words(n)}
            carried = names + [w for w in _focus(before) if w not in named][:_CARRIED_WORDS]
            if carried:
                p = f"{p} ({', '.join(carried)})"
        kind, answer_type = _kind(own or p)
        years, nums, _, _ = _numbers(own)
        # a piece that only states ("Why does Zenda hold back? It backed the rebels in the 1990s.") asks nothing
        context = len(pieces) > 1 and not own
        parts.append(
            Part(text=p, kind=kind, answer_type=answer_type, focus=_focus(p), numbers=years + nums, context=context)
        )
    if added:
        text = added.group(0).strip()
        years, nums, _, _ = _numbers(text)
        parts.append(
            Part(text=text, kind="what", answer_type="statement", focus=_focus(text), numbers=years + nums, context=True)
        )
    return parts


_ADDED_RE = re.compile(r"(?<=[?.!])\s+\([^()]*\)$")
# who wrote or published "this" or "it", the question's last word, or when: before any answer there is
# nothing else it can be ("Which think tank put out this?", "Who is this by?"); after a question about the
# document, "it" is the document ("Who published the paper?" then "Who wrote it?")
_WROTE_THIS_RE = re.compile(
    r"(?:\b(?:who|wh(?:ich|at) (?:organi[sz]ation|institut(?:e|ion)|foundation|think[- ]tank|publisher|group|"
    r"company|body))\b[^?]{0,30}\b"
    r"(?:(?:wrote|authored|published|released|produced|issued|put out)\s+(?:this|it)|put (?:this|it) out)"
    r"|^who(?:['’]s| is| was) (?:this|it) (?:by|from|(?:written|published|authored|released|issued) by)"
    r"|^(?:when|(?:what|which) year) (?:was|is) (?:this|it) (?:published|released|written|issued|dated))"
    r"\s*[?.!]*$",
    re.I,
)


def _about_the_document(messages: Sequence[Message]) -> bool:
    """The last question before the last message asked about the document itself ("Who wrote the paper?",
    "What is the report about?"), or was "Who wrote it?" read so."""
    asked = [i for i, m in enumerate(messages[:-1]) if m.role == "user"]
    if not asked:
        return False
    prev = " ".join(messages[asked[-1]].content.split())
    if _kind(prev)[0] == "about_document" or analyse(prev).overview is not None:
        return True
    chained = len(asked) == 1 or _about_the_document(messages[: asked[-1] + 1])
    return bool(_WROTE_THIS_RE.search(prev)) and chained


def _added(question: str, words_: str) -> str:
    """A follow-up with what it was completed with in brackets, after its own closing mark: one a reader left
    off ("and what about Strelsau", "and Strelsau:") is put back as "?", so that its parts tell its own
    words from the added ones (`_ADDED_RE`) as where the reader wrote it; one inside a closing quote stays."""
    asked = question.rstrip(" ,;:-–—")
    return f"{asked if _CLOSED_RE.search(asked) else asked + '?'} ({words_})"


# a closing mark `_ADDED_RE` reads ("…" is none: "and Strelsau…" gets its "?"), a closing quote after it allowed
_CLOSED_RE = re.compile(r"[?.!][\"'”’)\]]*$")


_CARRIED_WORDS = 4  # a pronoun's part takes the names and this many other focus words of the part before it


def analyse(
    question: str | Sequence[Message],
    vocabulary: Vocabulary | None = None,
    known: Callable[[str], bool] | None = None,
    other_names: Callable[[str], list[str]] | None = None,
    common: Callable[[str], bool] | None = None,
    same_as: Callable[[str], list[str]] | None = None,
    paragraphs: Callable[[Sequence[str]], list[str]] | None = None,
    truecase: Callable[[str], str] | None = None,
) -> Question:
    """Read a question (a string, or a conversation whose last message is the question) once. `vocabulary`:
    the corpus's optional aliases; `known(name)`: whether the corpus uses a name; `other_names`, `common` and
    `same_as`: see `entities`; `paragraphs`: see `resolve`; `truecase`: the reader's lower-case words given
    the capitals the corpus writes them with (lexical.Truecaser): "what did sapt say" names Sapt."""
    messages = [Message(role="user", content=question)] if isinstance(question, str) else list(question)
    written = " ".join(messages[-1].content.split())
    if truecase is not None:
        messages = [
            m.model_copy(update={"content": truecase(m.content)}) if m.role == "user" else m for m in messages
        ]
    standalone, follow_up = resolve(messages, paragraphs)
    text = " ".join(messages[-1].content.split())
    own = premises(text)  # the user's own sentences: not the words a follow-up carries over
    stated = own
    if any(p not in standalone for p in own):  # "That figure rose in 2019. Why?": as completed from before
        added = _ADDED_RE.search(standalone)
        stated = premises(standalone[: added.start()] if added else standalone)
    kind, answer_type = _kind(_asked(text, own) or text)
    first = not any(m.role == "user" for m in messages[:-1])
    if _WROTE_THIS_RE.search(text) and (first or _about_the_document(messages)):  # "Who wrote this?"
        kind, answer_type = "about_document", "statement"
    if kind == "what" and follow_up:  # "And why?" asks the kind its own words say; the rest comes from before
        # read without the words carried over in brackets, which ask nothing: "(..., whose, interests)" is no
        # ", whose" clause
        added = _ADDED_RE.search(standalone)
        kind, answer_type = _kind(standalone[: added.start()] if added else standalone)
    years, numbers, _, months = _numbers(_asked(standalone, stated))
    counts = _numbers(standalone)[2]
    footnotes = [int(a or b) for a, b in _FOOTNOTE_NUMBER_RE.findall(standalone)]
    overview: Literal["conclusion", "purpose"] | None = None
    if _CONCLUSION_RE.search(standalone):
        overview = "conclusion"
    elif _PURPOSE_RE.search(standalone):
        overview = "purpose"
    if overview and kind in ("what", "list", "definition", "how"):
        kind = "overview"
    about_sources = kind == "which_source" or bool(footnotes) or bool(_SOURCE_WORD_RE.search(standalone))
    said = answer_sentences(messages) if follow_up else []
    # a name the last answer used ("Which UN document?" after "According to the UN, ...") asks about what it said;
    # another name asks about something else ("What's the source for the Zenda claim?")
    sources_of = (
        said
        if said
        and (_kind(text)[0] == "which_source" or _SOURCE_WORD_RE.search(text))  # its own words ask for sources
        and not footnotes
        # it points back ("Where's that from?"), or asks nothing but the source ("What's the source?", "Which
        # document?"): with no subject of its own, what it asks the source of is what was just said
        and (_BACK_RE.search(text) or _ONLY_SOURCE_RE.match(text))
        and all(
            re.search(rf"\b{re.escape(fold(e.text.lower()))}\b", fold(" ".join(said).lower()))
            for e in entities(text)
        )
        else []
    )
    return Question(
        text=text,
        written=written,
        standalone=standalone,
        follow_up=follow_up,
        kind=kind,
        answer_type=answer_type,
        focus=_focus(standalone),
        entities=[
            e.model_copy(update={"asked": e.text.lower() in text.lower()})
            for e in entities(standalone, vocabulary, known, other_names, common, same_as)
        ],
        years=years,
        numbers=numbers,
        counts=counts,
        months=months,
        footnotes=footnotes,
        parts=_parts(standalone, stated),
        injection=bool(_INJECTION_RE.search(text)),
        about_sources=about_sources,
        asks_for_sources=about_sources,
        about_document=kind == "about_document",
        about_layout=bool(_LAYOUT_RE.search(standalone)),
        overview=overview,
        counted=counted_in(text, answer_sentences(messages)) if follow_up else [],
        sources_of=sources_of,
        stated=stated,
        borrowed=_borrowed(standalone, messages) if follow_up else [],
    )


def _borrowed(standalone: str, messages: Sequence[Message]) -> list[str]:
    """The focus words of the completed question that no user message writes."""
    written = {w.removesuffix("'s") for m in messages if m.role == "user" for w in _focus(m.content)}
    return [w for w in _focus(standalone) if w.removesuffix("'s") not in written]
