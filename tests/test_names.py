"""Names as readers spell them: split-word repair, the variant table, transliteration and fuzzy
matching, and answers carrying the canonical form — on the real article and the real index."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CORPUS

from qa.corpus import apply_repairs, load_corpus
from qa.names import NameMatcher, dense_query, lexical_query, load_table, rewrite, transliteration_key


@pytest.fixture(scope="module")
def matcher() -> NameMatcher:
    document = load_corpus(CORPUS)[0]
    return NameMatcher([document.search_text(0, document.body_end)], load_table(CORPUS))


def test_split_words_are_repaired_for_search_only(article_text: str) -> None:
    document = load_corpus(CORPUS)[0]
    assert [(article_text[r.start : r.end], r.joined) for r in document.repairs] == [
        ("Kagano-vich", "Kaganovich"),
        ("Vi-shinsky", "Vishinsky"),
    ]
    # Real compounds stay: their joined forms never occur in the article.
    assert "one-party" in document.search_text(0, len(article_text))
    at = article_text.index("Vi-shinsky")
    assert document.search_text(at - 20, at + 10).endswith("Vishinsky")
    assert document.text[at : at + 10] == "Vi-shinsky"  # the text itself is never altered
    assert apply_repairs("abc", 0, 3, ()) == "abc"


@pytest.mark.parametrize(
    ("reader", "article"),
    [("Khrushchev", "Khrustschev"), ("Kosygin", "Kosseigin"), ("Voznesensky", "Vosnesensky"),
     ("Vyshinsky", "Vishinsky"), ("Dekanozov", "Dekanosov"), ("Kaganovitch", "Kaganovich"),
     ("Kuznetsov", "Kusnetzov"), ("Litwinow", "Litvinov"), ("Malenkoff", "Malenkov")],
)
def test_transliteration_keys_meet(reader: str, article: str) -> None:
    assert transliteration_key(reader) == transliteration_key(article)


def test_table_transliteration_and_fuzzy_layers(matcher: NameMatcher) -> None:
    (table,) = matcher.match("Who is Khrushchev?")
    assert (table.corpus, table.canonical, table.how) == (("Khrustschev",), "Khrushchev", "table")
    (unlisted,) = matcher.match("What did Kaganovitch lead?")  # not in names.json
    assert (unlisted.corpus, unlisted.how) == (("Kaganovich",), "transliteration")
    (fuzzy,) = matcher.match("Where was Kaganovish based?")  # nobody spells it so
    assert (fuzzy.corpus, fuzzy.how) == (("Kaganovich",), "fuzzy")
    (misprint,) = matcher.match("Who wrote Speaking Frankly?")  # the scan has "Sneaking Frankly"
    assert misprint.corpus == ("Sneaking Frankly",)


def test_queries_carry_the_corpus_spelling(matcher: NameMatcher) -> None:
    question = "What did Kosygin and Voznesensky's friend do?"
    matches = matcher.match(question)
    assert rewrite(question, matches) == "What did Kosseigin and Vosnesensky's friend do?"
    assert lexical_query(question, matches) == "What did Kosseigin and Vosnesensky's friend do?"
    assert dense_query(question, matches) == f"{question} (Kosseigin, Vosnesensky)"
    # The article writes both "Atlantic" and the misprint "Adantic": BM25 gets both.
    atlantic = matcher.match("What was the Atlantic Pact?")
    assert lexical_query("What was the Atlantic Pact?", atlantic) == "What was the Atlantic Pact? Adantic Pact"


def test_self_contained_questions_are_left_alone(matcher: NameMatcher) -> None:
    for question in ("Who replaced Litvinov?", "When did Zhdanov die?", "Where was the Cominform founded?"):
        assert matcher.match(question) == []


ORDINARY = (
    "What Who When Where Why How Which Tell Name List Describe Explain Policy Power Party Pact War "
    "Peace Foreign Minister Death Leader Leaders Leadership Group Faction Factions Army Police State "
    "Government Revolution Treaty Agreement Conference Meeting Book Article Author Footnote Section "
    "Century Year Years Spring Summer Autumn Winter Military Economic Political Secret Secretary "
    "General Council Committee Congress Union Republic Nuclear Atomic Bomb Capitalism Socialism "
    "Democracy Freedom Western Eastern Northern Southern Successor Succession Purge Purges Influence "
    "Strategy Tactics Negotiations Approaches Intermediary Ambassador Embassy Counselor Adviser "
    "Advisor Deputy Vice Chief Head Member Members Candidate Candidates Election Vote Victory Defeat"
).split()


def test_other_real_names_are_not_pulled_onto_corpus_names(matcher: NameMatcher) -> None:
    for question in ("What is the capital of Australia?", "Who led Canada?", "When was NATO founded?"):
        assert matcher.match(question) == [], matcher.match(question)


def test_no_ordinary_word_is_rewritten(matcher: NameMatcher) -> None:
    for word in ORDINARY:
        for question in (f"{word} of the Kremlin?", f"What about the {word}?", f"Was it {word}?"):
            assert matcher.match(question) == [], (word, matcher.match(question))


MODERN = [  # (question with a modern spelling, a sentence the right passage holds)
    ("Who belonged to the troika with Khrushchev?", "The leadership of the Politburo fell to the “troika”"),
    ("In what did Kosygin make a name for himself?", "Bulganin and Kosseigin had made a name for themselves"),
    ("When was Voznesensky promoted to full membership?", "Vosnesensky was promoted from a candidate-member"),
    ("Who was the counterweight to Vyshinsky?", "In order to have a counterweight to Vi-shinsky"),
    ("Whose countryman was Dekanozov?", "Dekanosov was a countryman of Stalin and Beria"),
    ("What did Shcherbakov head during the war?", "the sudden death of Sherbakov"),
    ("Which party organization did Kuznetsov head?", "headed the Leningrad party organization"),
    ("Who blocked Semyonov in Germany? Was it Tyulpanov?", "was blocked at first by Colonel Tulpanov"),
    ("Where was the group around Kaganovitch formed?", "formed around L. M. Kagano-vich in Moscow"),  # unlisted
]


@pytest.mark.parametrize(("question", "evidence"), MODERN)
@pytest.mark.parametrize("retriever", ["hybrid", "bm25"])
def test_modern_spellings_find_the_right_passages(assistant, question: str, evidence: str, retriever: str) -> None:
    result = assistant.ask(question, retriever=retriever)
    assert any(evidence in hit.passage.text for hit in result.passages), [h.passage.location for h in result.passages]


def test_answers_carry_the_canonical_form(assistant) -> None:
    result = assistant.ask("Which members of the Politburo were in Zhdanov's group?")
    if result.answer and "Vosnesensky" in result.answer:
        assert "Voznesensky" in (result.answer_canonical or "")
    assert assistant.names.canonical("Zhdanov, Sherbakov, Andreyev, and Vosnesensky") == (
        "Zhdanov, Shcherbakov, Andreyev, and Voznesensky"
    )
    assert assistant.names.canonical("Khrustschev’s") == "Khrushchev’s"
    assert assistant.names.canonical("Molotov") == "Molotov"


def test_a_corpus_without_a_table_still_matches_by_transliteration(tmp_path: Path) -> None:
    document = load_corpus(CORPUS)[0]
    bare = NameMatcher([document.search_text(0, document.body_end)], [])
    (match,) = bare.match("Who was Khrushchev?")
    assert (match.corpus, match.canonical, match.how) == (("Khrustschev",), None, "transliteration")


def test_occurs_is_the_whole_word_search_it_replaces() -> None:
    import re

    from qa.names import _occurs

    text = "mao tse-tung met molotov’s aide; _x molotov2 zhdanov\nbería-malenkov. é"
    for spelling in ["mao", "tse-tung", "molotov", "molotov’s", "x", "_x", "zhdanov", "bería", "malenkov.", "é", "ov", "aide;", "tung met"]:
        expected = re.search(rf"(?<!\w){re.escape(spelling)}(?!\w)", text) is not None
        assert _occurs(spelling, text) == expected, spelling


def test_lazy_spelling_patterns_match_as_the_compiled_regex_does() -> None:
    import re

    from qa.names import _SpellingPattern

    spellings = ["Kaganovich", "Mao Tse-tung", "Bería", "Ulbricht", "S", "Stalin"]
    texts = [
        "", "Who was KAGANOVICH?", "kaganovich's and Kaganovich’s role", "Mao tse-TUNG met stalin", "xKaganovich",
        "Beria or BERÍA?", "Ulbricht’s men", "ſtalin (long s) and \u212aaganovich (Kelvin sign)", "s S s's",
        "Ulbrichts", "Stalin-Bería", "über Stalin",
    ]
    for spelling in spellings:
        lazy = _SpellingPattern(spelling)
        compiled = re.compile(lazy.pattern, re.IGNORECASE)
        for text in texts:
            assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in compiled.finditer(text)], (spelling, text)
