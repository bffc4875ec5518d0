"""Swedish text for full-text search: folding, Snowball stems, query words and highlights.

One implementation for every search (knowledge articles, cases): both sides fold text the
same way (lower case, diacritics dropped, so "sophamtning" finds "Sophämtning") and stem it
with the Swedish Snowball stemmer. Compounds: a long query word also asks for its leading
parts ("bygglovsansökan" asks for "bygglov"), since a text names the simple word more often
than the compound.
"""

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W_]+")
_WORD_SPLIT = re.compile(r"([^\W_]+)")
_stemmer = snowballstemmer.stemmer("swedish")
MIN_PART = 4  # the shortest leading part of a compound worth asking for
MAX_QUERY_WORDS = 12
# Swedish definite endings ("avfallet", "bygglovets"): the stemmer in some versions keeps them.
DEFINITE_ENDINGS = ("et", "en", "ets", "ens", "arna", "erna", "orna", "na")


# Folding and stemming are pure and a text's words repeat (a search folds and stems the
# same few hundred words for every candidate it scores or highlights): cached.
@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text_: str) -> list[str]:
    return [fold(w) for w in _WORD.findall(text_)]


def tokens_of(text_: str) -> list[str]:
    """The words of a text as written (not folded)."""
    return _WORD.findall(text_)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def folded(text_: str) -> str:
    return " ".join(words(text_))


def stemmed(text_: str) -> str:
    return " ".join(stem(w) for w in words(text_))


@dataclass
class QueryWord:
    word: str  # folded
    parts: list[str]  # folded leading parts of a compound, longest first

    @property
    def variants(self) -> set[str]:
        """The word, and the word without a definite ending the stemmer may keep."""
        return {self.word} | {self.word[:-len(ending)] for ending in DEFINITE_ENDINGS
                              if self.word.endswith(ending)
                              and len(self.word) - len(ending) >= MIN_PART}

    @property
    def stems(self) -> set[str]:
        # Stemmed once more too: "förskoleplatser" stems to "forskoleplats", while the
        # text's "förskoleplats" stems to "forskoleplat".
        once = {stem(v) for v in self.variants}
        return once | {stem(s) for s in once}

    @property
    def part_stems(self) -> set[str]:
        return {stem(p) for p in self.parts} - self.stems

    @property
    def prefixes(self) -> set[str]:
        """What a text's word may begin with to match while typing ("Orosanm", "parkering"
        in "Parkeringstillstånd"): the word and its stems."""
        return {self.word} | self.stems


def parse(q: str) -> list[QueryWord]:
    """The query's words, each with the leading parts of a compound."""
    seen, parsed = set(), []
    for word in words(q)[:MAX_QUERY_WORDS]:
        if word in seen:
            continue
        seen.add(word)
        parts = ([word[:i] for i in range(len(word) - 3, MIN_PART - 1, -1)]
                 if len(word) >= 2 * MIN_PART else [])
        parsed.append(QueryWord(word, parts))
    return parsed


def matcher(query: list[QueryWord], *, prefixes: bool = False) -> Callable[[str], bool]:
    """Whether a word of a text is one the query asked for (by its stem; with `prefixes`,
    also a word that begins with a query word)."""
    wanted = {s for w in query for s in w.stems | w.part_stems}
    starts = tuple({p for w in query for p in w.prefixes}) if prefixes else ()

    def hit(token: str) -> bool:
        word = fold(token)
        stemmed_word = stem(word)
        return stemmed_word in wanted or bool(starts) and (
            word.startswith(starts) or stemmed_word.startswith(starts))
    return hit


def highlight(query: list[QueryWord], text_: str, *, window: int | None = None,
              prefixes: bool = False) -> str:
    """`text_` as HTML with the words the query matched in <mark>, cut to a window."""
    hit = matcher(query, prefixes=prefixes)
    tokens = _WORD_SPLIT.split(text_)
    hits = [i for i, token in enumerate(tokens) if i % 2 and hit(token)]
    start, end, prefix, suffix = 0, len(tokens), "", ""
    if window is not None:
        first = hits[0] if hits else 1
        start = max(0, first - window // 2 * 2)
        end = min(len(tokens), start + window * 2)
        prefix = "… " if start > 0 else ""
        suffix = " …" if end < len(tokens) else ""
    out, marked = [], set(hits)
    for i in range(start, end):
        escaped = html.escape(tokens[i])
        out.append(f"<mark>{escaped}</mark>" if i in marked else escaped)
    return prefix + "".join(out).strip() + suffix
