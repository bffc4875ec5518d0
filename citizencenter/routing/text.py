"""Swedish text as rules see it: folded tokens, light stems and keyword phrases.

Citizens write "Bygglovet", "BYGGLOV" or "bygglovsansökan" and mean the same
thing, so keywords are matched as stems against the start of folded tokens:
"förskola" becomes "forskol" and matches "förskoleplats" and "förskolan". The stems
are the Snowball Swedish stemmer's; matching the start of a word is what finds the
first part of a compound, which the stemmer does not split.
"""

import re
import threading
import unicodedata

import snowballstemmer

_TOKEN = re.compile(r"[a-z0-9]+")
# A Snowball stemmer keeps the word it works on in itself: one per thread.
_stemmers = threading.local()
_SWEDISH = {"och", "att", "det", "jag", "inte", "som", "har", "for", "med", "till", "kan",
            "min", "mitt", "vill", "hur", "vad", "nar", "ett", "pa", "av", "om", "ar", "hej"}
_ENGLISH = {"the", "and", "is", "to", "my", "of", "for", "have", "how", "what", "when",
            "can", "please", "would", "with", "hello", "hi", "you", "not", "this", "need"}


def fold(text: str) -> str:
    """Lower-case without diacritics: "Förskoleplats" -> "forskoleplats"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


def stem(token: str) -> str:
    """The Swedish Snowball stem of one word: "förskola" -> "förskol", "gatorna" -> "gat"."""
    stemmer = getattr(_stemmers, "swedish", None)
    if stemmer is None:
        stemmer = _stemmers.swedish = snowballstemmer.stemmer("swedish")
    return stemmer.stemWord(token)


def keyword_stems(keyword: str) -> tuple[str, ...]:
    """The stems of a keyword or phrase; empty when it holds no letters or digits."""
    return tuple(stem(t) for t in tokens(keyword))


def matches(stems: tuple[str, ...], words: list[str]) -> bool:
    """Whether the phrase's stems begin consecutive tokens of the text."""
    if not stems:
        return False
    last = len(words) - len(stems)
    return any(all(words[i + k].startswith(s) for k, s in enumerate(stems))
               for i in range(last + 1))


def detect_language(words: list[str]) -> str | None:
    """Swedish or English by their commonest words; None when the text does not say."""
    swedish = sum(w in _SWEDISH for w in words)
    english = sum(w in _ENGLISH for w in words)
    if english > swedish and english >= 2:
        return "en"
    if swedish:
        return "sv"
    return None
