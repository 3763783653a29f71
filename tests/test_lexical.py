"""BM25 (bm25s) checked against a reference implementation of the same Lucene formula."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_service.lexical import LexicalIndex, TermStats, Truecaser, defined_acronyms, tokenize
from qa_service.question import analyse
from qa_service.read import mentions, surface


def reference_bm25(docs: list[list[str]], query: list[str], k1: float = 1.5, b: float = 0.75) -> list[float]:
    n = len(docs)
    avgdl = sum(len(d) for d in docs) / n
    df = {t: sum(1 for d in docs if t in d) for t in set(query)}
    scores = []
    for d in docs:
        s = 0.0
        for t in set(query):
            if not df.get(t):
                continue
            idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
            tf = d.count(t)
            s += idf * tf / (tf + k1 * (1 - b + b * len(d) / avgdl))
        scores.append(s)
    return scores


CORPUS = [
    "The SCO created an Afghanistan Contact Group in 2005.",
    "Russia and China compete inside the SCO for influence in Central Asia.",
    "The United States froze the assets of the central bank.",
    "Sanctions on the Taliban remain; the assets stay frozen.",
    "Iran considers ISIL-K a bigger menace than the Taliban.",
]


@pytest.mark.parametrize(
    "query", ["SCO contact group", "frozen assets central bank", "Taliban menace", "unknownword"]
)
def test_matches_reference_formula(query: str) -> None:
    index = LexicalIndex.build(CORPUS)
    expected = reference_bm25([tokenize(t) for t in CORPUS], tokenize(query))
    assert list(index.scores(query)) == pytest.approx(expected, rel=1e-4)


@given(
    st.lists(
        st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta", "omega"]), min_size=1, max_size=8),
        min_size=2,
        max_size=8,
    ),
    st.lists(st.sampled_from(["alpha", "beta", "gamma", "zeta"]), min_size=1, max_size=3),
)
@settings(max_examples=40, deadline=None)
def test_differential(docs: list[list[str]], query: list[str]) -> None:
    texts = [" ".join(d) for d in docs]
    index = LexicalIndex.build(texts)
    expected = reference_bm25([tokenize(t) for t in texts], tokenize(" ".join(query)))
    assert list(index.scores(" ".join(query))) == pytest.approx(expected, rel=1e-4, abs=1e-6)


def test_search_ranks_and_persists(tmp_path) -> None:  # type: ignore[no-untyped-def]
    index = LexicalIndex.build(CORPUS)
    index.save(tmp_path / "bm25")
    loaded = LexicalIndex.load(tmp_path / "bm25", len(CORPUS))
    hits = loaded.search("Which group did the SCO create?", 3)
    assert hits[0][0] == 0
    assert loaded.search("xylophone", 3) == []


def test_term_stats_know_the_words_the_corpus_writes_in_lower_case() -> None:
    stats = TermStats(
        ["Zenda needs the loan; a member state objects.", "See https://example.org/strelsau-news for Strelsau."]
    )
    assert stats.common("Member") and stats.common("needs")
    assert not stats.common("Zenda") and not stats.common("Strelsau")  # only capitalised, or in an address


def test_a_name_typed_without_its_accents_or_ligature_is_the_name_the_documents_write() -> None:
    """Readers type "Maecklin" for "Mæcklin" and "Strelsau" for "Strelsäu": the name is known, and the words
    match in the search and in the reader's word overlap (invented names)."""
    stats = TermStats(["Writing in 1998, Sapt and Mæcklin met the envoy of Strelsäu in Zenda."])
    assert stats.uses("Maecklin") and stats.uses("Mæcklin") and stats.uses("Maecklin's")
    assert stats.uses("Strelsau") and stats.uses("Strelsäu")
    assert not stats.uses("Macklin") and not stats.uses("Meacklin")
    assert tokenize("Mæcklin's view") == tokenize("Maecklin's view")
    assert tokenize("Strelsäu") == tokenize("Strelsau")
    assert tokenize("the Zenda oﬃce of ﬁnance") == tokenize("the Zenda office of finance")  # a PDF's ligatures
    index = LexicalIndex.build(["Sapt and Mæcklin met.", "The envoy of Zenda left."])
    assert index.search("what did maecklin say", 2)[0][0] == 0
    # and the sentence that writes the name mentions it; typed in lower case, it is found as the name
    q = analyse("What did Maecklin tell the envoy of Strelsau?", known=stats.uses)
    assert [e.text for e in q.entities] == ["Maecklin", "Strelsau"]
    assert all(mentions(surface("Sapt and Mæcklin met the envoy of Strelsäu."), e) for e in q.entities)
    prose = ["In 1998 the envoy of Strelsäu thanked Mæcklin in Zenda."]
    truecase = Truecaser(prose, TermStats(prose).lower)
    assert truecase("what did maecklin say") == "what did Mæcklin say"


def test_only_a_name_in_the_reference_list_alone_makes_a_question_about_sources() -> None:
    stats = TermStats(
        [
            "Zenda's envoy met the council.",
            "3. Roza Hentzau, “A Review of Troop Levels,” https://example.org/sapt-report.pdf.",
        ],
        is_reference=[False, True],
    )
    assert stats.names_a_reference("Who is Roza Hentzau?")
    assert not stats.names_a_reference("When was the review of troop levels delivered?")  # plain words
    assert not stats.names_a_reference("Review the troop levels for me.")  # opens the sentence
    assert not stats.names_a_reference("What did Sapt say?")  # only in an address
    assert stats.names_a_reference("Roza Hentzau: who is she?") and stats.names_a_reference("Hentzau's report?")


def test_initials_stand_for_the_capitalised_names_the_texts_write_hyphens_and_all() -> None:
    """A reader's initials for a name the texts only spell out: each capitalised part of a hyphenated word is an
    initial of its own ("Validated End-User" -> VEU)."""
    stats = TermStats(["Zenda's fabs were granted Validated End-User status under the Harbour Fees Act."])
    assert stats.other_names("VEU") == ["Validated End-User"] and stats.other_names("HFA") == ["Harbour Fees Act"]
    assert stats.other_names("VE") == []  # the initials of a part of the name name nothing


def test_initials_among_other_words_or_in_the_plural_are_spelled_out() -> None:
    """"The ZL SG", "Zenda FMs": a reader's initials beside other words, or in the plural, stand for the names
    the texts' prose spells out (not a reference list's publisher), in the number the reader wrote ("FM" a foreign
    minister, "FMs" several) (invented texts)."""
    stats = TermStats(
        [
            "Zenda hosted the Foreign Ministers' Meeting; members of the Zenda League came.",
            "Zenda's Secretary General spoke.",
            "Ruritania's Foreign Minister and the Strelsau foreign ministers met.",
            "4. Rudolf Sapt, Zenda Papers (Pan Macmillan, 2020).",
            "Zenda and the Free Cities objected; the city of Strelsau did not.",
        ],
        is_reference=[False, False, False, True, False],
    )
    # no form of the name the prose does not write: "Free Cities" is no plural of a 'Free Citie'
    assert stats.other_names("FC") == ["Free Cities"]
    assert stats.other_names("Zenda PM") == []  # the publisher's initials are no name of the prose
    assert stats.other_names("ZL SG") == ["zenda league secretary general"]
    assert stats.other_names("Strelsau FMs") == ["strelsau foreign ministers"]
    assert stats.other_names("FM") == ["Foreign Minister", "Foreign Ministers"]  # the texts wrote the plural
    q = analyse("What did Ruritania's FM say?", known=stats.uses, other_names=stats.other_names)
    assert [e.known for e in q.entities if e.text == "FM"] == [True]
    fm = next(e for e in q.entities if e.text == "FM")
    assert mentions(surface("Ruritania's foreign minister spoke."), fm)


def test_acronyms_the_texts_define_are_other_names_each_way() -> None:
    """"the Zenda Harbour Authority (ZHA)" makes each half of the pair a name for the other, so that a sentence
    that writes one counts as naming the other (invented texts, after Schwartz and Hearst's algorithm)."""
    texts = [
        "In 1921 the Zenda Harbour Authority (ZHA) raised its fees.",
        "Its rival, the Strelsau-Hentzau Railway Company (SHRC), objected, as did the Black Hand (BH-K).",
        "The fees (ZHA) were raised.",  # the words before the brackets do not spell it: no pair
        "Sapt said so (see ZHA).",
    ]
    got = defined_acronyms(texts)
    assert got["ZHA"] == ["Zenda Harbour Authority"] and got["zenda harbour authority"] == ["ZHA"]
    assert got["SHRC"] == ["Strelsau-Hentzau Railway Company"]  # each part of a hyphenated word is spelled
    assert got["strelsau hentzau railway company"] == ["SHRC"]  # a hyphen keys as a space
    assert got["BH-K"] == ["Black Hand"]  # the suffix after a hyphen need not be spelled
    assert "the fees" not in got and "see" not in got
    stats = TermStats(texts)
    assert stats.same_as("ZHA") == ["Zenda Harbour Authority"]
    assert stats.same_as("Zenda Harbour Authority") == ["ZHA"]
    assert stats.same_as("Strelsau-Hentzau Railway Company") == ["SHRC"]
    assert stats.same_as("Zenda") == ["ZHA"]  # written only inside the long form: a short form of it
    # an acronym is matched as written, and one the corpus also writes as a word is no mention of anything
    named = TermStats(["The Strelsau Action Plan for Trade (SAPT) lapsed.", "Sapt came here with the Hentzau "
                       "Emergency Relief Effort (HERE)."])
    assert named.same_as("Sapt") == [] and named.same_as("SAPT") == ["Strelsau Action Plan for Trade"]
    assert named.same_as("Hentzau Emergency Relief Effort") == [] and named.same_as("HERE")
    # a mention, not a query word: the definition's own sentence writes both halves
    q = analyse("Why did the ZHA raise its fees?", known=stats.uses, same_as=stats.same_as)
    assert q.entities[0].same_as == ["Zenda Harbour Authority"] and "Authority" not in q.query
    assert mentions(surface("The Zenda Harbour Authority raised them."), q.entities[0])


def test_a_readers_shortened_name_stands_for_the_one_long_form_it_begins() -> None:
    """Readers shorten a defined name from its end ("the Strelsau group" for the Strelsau Cooperation Council)
    and vary its words' forms ("East Zenda", "Organisation"): the acronym the corpus writes is its other name,
    unless the prose also writes the short name by itself, or it begins two long forms (invented texts)."""
    stats = TermStats(
        [
            "The Eastern Zenda Liberation Movement (EZLM) was listed in 2002 and the SCC objected.",
            "The Strelsau Cooperation Council (SCC) met in Hentzau;",
            "the Hentzau Trade Organization (HTO) did not.",
            "The Black Hand Society (BHS) and the Black Flag Union (BFU) split. Zenda and Ruritania signed.",
        ]
    )
    assert stats.same_as("East Zenda") == ["EZLM"]  # 'east' a form of 'eastern'
    assert stats.same_as("Eastern Zenda Liberation") == ["EZLM"]
    assert stats.same_as("Strelsau") == ["SCC"]  # written only inside the long form
    assert stats.same_as("Hentzau Trade Organisation") == ["HTO"]  # a spelling a letter apart
    assert stats.same_as("Hentzau") == []  # the prose writes it by itself: a name of its own
    assert stats.same_as("Zenda Liberation") == []  # not how the long form begins
    assert stats.same_as("East") == []  # one word only as written
    assert stats.same_as("Black") == []  # the start of two long forms
    assert stats.same_as("Zenda") == []  # "Zenda and Ruritania": written by itself in a list
    # the prose writes it by itself after a sentence's first word, before a possessive, hyphenated, or as the
    # start of another name: each a name of its own
    for prose, name in (
        ("In Strelsau, the talks failed.", "Strelsau"),
        ("Talks in Strelsau failed.", "Strelsau"),
        ("Strelsau's Foreign Minister spoke.", "Strelsau"),
        ("The Strelsau Five met.", "Strelsau"),
        ("Zenda-Strelsau trade fell.", "Zenda-Strelsau"),
    ):
        other = TermStats(["The Strelsau Cooperation Council (SCC) met.", "The Zenda-Strelsau Rail (ZSR) ran.",
                           prose])
        assert other.same_as(name) == [], prose
    # a long form with small words and "and" in it: each start of it stands for it
    league = TermStats(["The League of Zenda and the Strelsau Coast (LZSC) met.", "The LZSC met again."])
    assert league.same_as("League of Zenda") == ["LZSC"] and league.same_as("League") == ["LZSC"]
    # the acronym is how the corpus writes it: the retrieval query asks for it too
    q = analyse("Why did the Strelsau group meet?", known=stats.uses, other_names=stats.other_names,
                same_as=stats.same_as)
    assert q.entities[0].text == "Strelsau" and "(SCC)" in q.query


_ZENDA_PROSE = [
    "In 2021 the Zenda Council met in Strelsau, and Sapt spoke for the ZLF. The council of elders did not.",
    "Ruritania backed the ZLF. Later the Zenda Council asked Sapt to lead it, and Hentzau objected.",
    "Hentzau wrote to the Zenda Council. Meanwhile the general mood soured, as the World Bank warned.",
    "Hentzau's envoy saw the foreign minister; the Foreign Minister Rupert Tarlenheim did not see us.",
    "They met under Article 2 of the pact. Elders Council members objected to the Bank of the Isles.",
]


def test_truecase_gives_lower_case_names_the_prose_capitals() -> None:
    """A word the prose capitalises alone and never writes in lower case changes alone; a name of several
    words changes as the whole name; what the prose also writes in lower case, a word only capitalised inside
    a longer name, before a number or where a sentence opens, and a message whose writer capitalised a name,
    stay as written."""
    case = Truecaser(_ZENDA_PROSE, TermStats(_ZENDA_PROSE).lower)
    assert case("what did sapt tell the zenda council about the zlf?") == (
        "what did Sapt tell the Zenda Council about the ZLF?"
    )
    assert case("why did hentzau's envoy object in strelsau") == "why did Hentzau's envoy object in Strelsau"
    # 'council' and 'foreign minister' are also written in lower case; 'world' only inside "World Bank";
    # 'later' and 'meanwhile' only open sentences
    assert case("the council and the foreign minister") == "the council and the foreign minister"
    assert case("the world mood later, meanwhile") == "the world mood later, meanwhile"
    assert case("what did the world bank warn") == "what did the World Bank warn"
    assert case("Did SAPT write?") == "Did SAPT write?"  # as the reader wrote it
    # a word only capitalised before a number, or after a sentence's first word, or inside a longer name
    assert case("which article says what the elders council and the bank decided") == (
        "which article says what the elders council and the bank decided"
    )
    assert case("did the bank of the isles lend") == "did the Bank of the Isles lend"
    # a reader who capitalises names means the words left in lower case: the message stays as written
    assert case("What did Hentzau say about the world bank and sapt?") == (
        "What did Hentzau say about the world bank and sapt?"
    )
    assert case("what did the ZLF say about sapt?") == "what did the ZLF say about Sapt?"  # initials: no sign
    assert case("what happened in the 21st century") == "what happened in the 21st century"
    # 'us' is a pronoun unless it follows "the"
    prose = ["The US and Zenda signed.", "Zenda later wrote to the US."]
    us = Truecaser(prose, TermStats(prose).lower)
    assert us("tell us what the us signed") == "tell us what the US signed"
