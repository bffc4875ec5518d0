"""Swedish search over knowledge articles on PostgreSQL and SQLite.

Both sides fold text the same way (lower case, diacritics dropped, so "sophamtning" finds
"Sophämtning") and stem it with the Swedish Snowball stemmer: PostgreSQL's `swedish`
configuration over the folded columns, snowballstemmer for SQLite's FTS5 shadow table.
Compounds: a long query word also asks for its leading parts ("bygglovsansökan" asks for
"bygglov"), since an article names the simple word more often than the compound.
The database picks the candidates; one scorer here ranks them, the same on both.
"""

import html
import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

import snowballstemmer
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

_WORD = re.compile(r"[^\W_]+")
_WORD_SPLIT = re.compile(r"([^\W_]+)")
_stemmer = snowballstemmer.stemmer("swedish")
MIN_PART = 4  # the shortest leading part of a compound worth asking for
CANDIDATES = 50
SNIPPET_WORDS = 30
TYPO_LIKENESS = 0.85  # SQLite: difflib's ratio of a query word to a title word
TYPO_TRIGRAMS = 0.5  # PostgreSQL: pg_trgm's word_similarity
# Swedish definite endings ("avfallet", "bygglovets"): the stemmer in some versions keeps them.
DEFINITE_ENDINGS = ("et", "en", "ets", "ens", "arna", "erna", "orna", "na")


def fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text_: str) -> list[str]:
    return [fold(w) for w in _WORD.findall(text_)]


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
        # article's "förskoleplats" stems to "forskoleplat".
        once = {stem(v) for v in self.variants}
        return once | {stem(s) for s in once}

    @property
    def part_stems(self) -> set[str]:
        return {stem(p) for p in self.parts} - self.stems


def parse(q: str) -> list[QueryWord]:
    """The query's words, each with the leading parts of a compound."""
    seen, parsed = set(), []
    for word in words(q)[:12]:
        if word in seen:
            continue
        seen.add(word)
        parts = ([word[:i] for i in range(len(word) - 3, MIN_PART - 1, -1)]
                 if len(word) >= 2 * MIN_PART else [])
        parsed.append(QueryWord(word, parts))
    return parsed


def _pg_candidates(session: Session, query: list[QueryWord], audiences: list[str]) -> list[int]:
    # Alternatives go unstemmed: to_tsquery('swedish', …) stems them as the index did.
    alternatives = sorted({v for w in query for v in w.variants}
                          | {stem(w.word) for w in query} | {p for w in query for p in w.parts})
    tsquery = " | ".join(alternatives)
    rows = session.execute(text(
        "SELECT id FROM knowledge_articles, to_tsquery('swedish', :tsquery) AS query "
        "WHERE audience IN :audiences AND ("
        "setweight(to_tsvector('swedish', search_title), 'A') || "
        "setweight(to_tsvector('swedish', search_body), 'B')) @@ query "
        "ORDER BY ts_rank(setweight(to_tsvector('swedish', search_title), 'A') || "
        "setweight(to_tsvector('swedish', search_body), 'B'), query) DESC, id LIMIT :limit"
    ).bindparams(bindparam("audiences", expanding=True)),
        {"tsquery": tsquery, "audiences": audiences, "limit": CANDIDATES})
    found = [row.id for row in rows]
    if not found:
        # A typo: the title most like the query, by trigrams (pg_trgm). The default
        # threshold (0.6) misses a wrong vowel in a short word; this transaction only.
        session.execute(text("SELECT set_config('pg_trgm.word_similarity_threshold', "
                             ":threshold, true)"), {"threshold": str(TYPO_TRIGRAMS)})
        rows = session.execute(text(
            "SELECT id FROM knowledge_articles WHERE audience IN :audiences "
            "AND :q <% search_title "  # word_similarity over the threshold, by the index
            "ORDER BY word_similarity(:q, search_title) DESC, id LIMIT :limit"
        ).bindparams(bindparam("audiences", expanding=True)),
            {"q": " ".join(w.word for w in query), "audiences": audiences,
             "limit": CANDIDATES})
        found = [row.id for row in rows]
    return found


def _sqlite_candidates(session: Session, query: list[QueryWord],
                       audiences: list[str]) -> list[int]:
    stems = sorted({s for w in query for s in w.stems | w.part_stems})
    match = " OR ".join(f'"{s}"' for s in stems)
    rows = session.execute(text(
        "SELECT a.id FROM knowledge_fts JOIN knowledge_articles AS a ON a.id = knowledge_fts.rowid "
        "WHERE knowledge_fts MATCH :match AND a.audience IN :audiences "
        "ORDER BY bm25(knowledge_fts, 5.0, 1.0), a.id LIMIT :limit"
    ).bindparams(bindparam("audiences", expanding=True)),
        {"match": match, "audiences": audiences, "limit": CANDIDATES})
    found = [row.id for row in rows]
    if not found:
        # A typo: titles with a word close to a query word. SQLite has no trigram index;
        # the embedded run's few articles are read once for it.
        titles = session.execute(text(
            "SELECT id, search_title FROM knowledge_articles WHERE audience IN :audiences"
        ).bindparams(bindparam("audiences", expanding=True)), {"audiences": audiences})
        close = []
        for row in titles:
            likeness = max((SequenceMatcher(None, w.word, t).ratio()
                            for w in query for t in row.search_title.split()), default=0)
            if likeness >= TYPO_LIKENESS:
                close.append((-likeness, row.id))
        found = [article_id for _, article_id in sorted(close)[:CANDIDATES]]
    return found


def candidates(session: Session, query: list[QueryWord], audiences: list[str]) -> list[int]:
    """Ids of the articles that match some word of the query, best first."""
    if not query:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _pg_candidates(session, query, audiences)
    return _sqlite_candidates(session, query, audiences)


def score(query: list[QueryWord], title: str, body: str) -> float:
    """How well an article answers the query: whole words over parts, title over body."""
    title_stems, body_stems = set(stemmed(title).split()), set(stemmed(body).split())
    total = 0.0
    for word in query:
        if word.stems & title_stems:
            total += 4
        elif word.stems & body_stems:
            total += 2
        elif word.part_stems & title_stems:
            total += 1.5
        elif word.part_stems & body_stems:
            total += 0.5
    return total


def sync_sqlite(session: Session, article_id: int, title: str, body: str) -> None:
    """Keep SQLite's FTS5 shadow row of an article in step with the article."""
    if session.get_bind().dialect.name != "sqlite":
        return
    session.execute(text("DELETE FROM knowledge_fts WHERE rowid = :id"), {"id": article_id})
    session.execute(text("INSERT INTO knowledge_fts (rowid, title, body) "
                         "VALUES (:id, :title, :body)"),
                    {"id": article_id, "title": stemmed(title), "body": stemmed(body)})


def highlight(query: list[QueryWord], text_: str, *, window: int | None = None) -> str:
    """`text_` as HTML with the words the query matched in <mark>, cut to a window."""
    wanted = {s for w in query for s in w.stems | w.part_stems}
    tokens = _WORD_SPLIT.split(text_)
    hits = [i for i, token in enumerate(tokens) if i % 2 and stem(fold(token)) in wanted]
    start, end, prefix, suffix = 0, len(tokens), "", ""
    if window is not None:
        first = hits[0] if hits else 1
        start = max(0, first - window // 2 * 2)
        end = min(len(tokens), start + window * 2)
        prefix = "… " if start > 0 else ""
        suffix = " …" if end < len(tokens) else ""
    out = []
    for i in range(start, end):
        escaped = html.escape(tokens[i])
        out.append(f"<mark>{escaped}</mark>" if i in hits else escaped)
    return prefix + "".join(out).strip() + suffix
