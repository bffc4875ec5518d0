"""Swedish keyword matching: case, accents and word endings aside."""

import pytest

from citizencenter.routing import text


def _hit(keyword: str, sentence: str) -> bool:
    return text.matches(text.keyword_stems(keyword), text.tokens(sentence))


@pytest.mark.parametrize(("keyword", "sentence"), [
    ("bygglov", "Behöver jag BYGGLOV för ett plank?"),
    ("bygglov", "Hur lång tid tar bygglovet?"),
    ("bygglov", "Min bygglovsansökan har fastnat"),
    ("förskola", "Jag söker förskoleplats i Dalby"),
    ("förskola", "Kön till förskolan"),
    ("förskola", "FORSKOLA"),
    ("Förskoleplats", "förskoleplatsen vi fick"),
    ("ekonomiskt bistånd", "Ansökan om ekonomiska biståndet"),
    ("sophämtning", "sophamtningen uteblev"),
    ("gatubelysning", "Trasig gatubelysning på Bytaregatan"),
    # Short words lose their endings too, so plural and compound forms match.
    ("gata", "Gatorna är inte sandade"),
    ("gata", "gatubelysningen är trasig"),
    ("avgift", "Avgifterna för hemtjänst"),
])
def test_word_forms_accents_and_case_match(keyword, sentence):
    assert _hit(keyword, sentence)


@pytest.mark.parametrize(("keyword", "sentence"), [
    ("förskola", "Frågor om skolan"),  # the stem must begin the word
    ("bygglov", "bygg lov"),
    ("ekonomiskt bistånd", "bistånd som inte är ekonomiskt"),  # a phrase keeps its order
    ("parkering", "park"),
    ("!!!", "!!!"),
])
def test_other_words_do_not_match(keyword, sentence):
    assert not _hit(keyword, sentence)


def test_short_words_keep_their_endings():
    assert text.stem("ska") == "ska" and text.stem("lov") == "lov"
    assert text.stem("förskola") == "förskol"  # stemming runs on folded tokens in practice
    assert text.keyword_stems("Förskola") == ("forskol",)


def test_language_is_told_by_common_words():
    assert text.detect_language(text.tokens("Hej, jag vill veta hur det går")) == "sv"
    assert text.detect_language(text.tokens("Hello, how can I apply for the permit?")) == "en"
    assert text.detect_language(text.tokens("Bygglov 2026")) is None
