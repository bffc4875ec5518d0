"""Swedish search over knowledge articles on PostgreSQL and SQLite.

Both sides fold text the same way (lower case, diacritics dropped, so "sophamtning" finds
"Sophämtning") and stem it with the Swedish Snowball stemmer: PostgreSQL's `swedish`
configuration over the folded columns, snowballstemmer for SQLite's FTS5 shadow table.
Compounds: a long query word also asks for its leading parts ("bygglovsansökan" asks for
"bygglov"), since an article names the simple word more often than the compound.
The database picks the candidates; one scorer here ranks them, the same on both.
"""

from difflib import SequenceMatcher

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

# Folding, stems, query words and highlights are citizencenter.swedish's, shared with the
# case search; the names stay importable from here.
from citizencenter.swedish import (  # noqa: F401
    MIN_PART,
    QueryWord,
    fold,
    folded,
    highlight,
    parse,
    stem,
    stemmed,
    words,
)

CANDIDATES = 50
RANKED = 4 * CANDIDATES  # PostgreSQL: the newest matches of a tier ts_rank weighs
SNIPPET_WORDS = 30
TYPO_LIKENESS = 0.85  # SQLite: difflib's ratio of a query word to a title word
TYPO_TRIGRAMS = 0.5  # PostgreSQL: pg_trgm's word_similarity


def _pg_tiers(query: list[QueryWord]) -> list[str]:
    """The tsqueries to try, narrowest first: every word whole (several words), any word
    whole, then any word or a leading part of one. A common word matches thousands of
    articles and a short part ("fors", which stems to the common "for") most of them; a
    wider tier runs only when the narrower found too few to fill the candidates, which
    ranks (and scores) whole-word matches above part matches anyway."""
    # Alternatives go unstemmed: to_tsquery('swedish', …) stems them as the index did.
    whole = [sorted(w.variants | {stem(w.word)}) for w in query]
    tiers = []
    if len(query) > 1:
        tiers.append(" & ".join("(" + " | ".join(alts) + ")" for alts in whole))
    tiers.append(" | ".join(sorted({a for alts in whole for a in alts})))
    if any(w.parts for w in query):
        tiers.append(" | ".join(sorted({a for alts in whole for a in alts}
                                       | {p for w in query for p in w.parts})))
    return tiers


def _pg_candidates(session: Session, query: list[QueryWord], audiences: list[str]) -> list[int]:
    for tsquery in _pg_tiers(query):
        # ts_rank over the newest RANKED matches only: a common word matches hundreds of
        # articles, and ranking each read and weighed its whole document.
        rows = session.execute(text(
            "SELECT id FROM (SELECT id, search_document FROM knowledge_articles "
            "  WHERE audience IN :audiences AND search_document @@ to_tsquery('swedish', "
            "  :tsquery) ORDER BY id DESC LIMIT :ranked) AS matched, "
            "  to_tsquery('swedish', :tsquery) AS query "
            "ORDER BY ts_rank(search_document, query) DESC, id LIMIT :limit"
        ).bindparams(bindparam("audiences", expanding=True)),
            {"tsquery": tsquery, "audiences": audiences, "ranked": RANKED,
             "limit": CANDIDATES})
        found = [row.id for row in rows]
        if len(found) >= CANDIDATES:
            break
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
