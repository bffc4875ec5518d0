"""Full-text search over cases in Swedish: subject, conversation and notes.

One document per case (`CaseDocument`) holds its folded subject, messages and notes. A
session hook keeps it in step whenever a case's subject or a message is written, whoever
writes it (intake, every channel, forwarding notes, erasure), after identity numbers are
masked, so a personnummer is never in it. PostgreSQL searches a stored `swedish` tsvector of
the document through a GIN index; SQLite an FTS5 table of Snowball stems, as the knowledge
base does. Folding, stems and highlights are `citizencenter.swedish`'s.

A query word matches a word of the case that has its stem, begins with it (a guide types
"Orosanm" or "parkering" for "Parkeringstillstånd"), or is a leading part of it as a
compound ("bygglovsansökan" finds "bygglov"); every query word must match.
"""

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import (
    Connection,
    Double,
    bindparam,
    column,
    event,
    func,
    inspect,
    literal_column,
    select,
    table,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from citizencenter.cases.enums import Direction
from citizencenter.cases.models import Case, CaseDocument, Message
from citizencenter.errors import InvalidInput
from citizencenter.pagination import Page
from citizencenter.swedish import (
    QueryWord,
    folded,
    highlight,
    matcher,
    parse,
    stem,
    stemmed,
    tokens_of,
)

SNIPPET_WORDS = 24
# PostgreSQL ranks a search's newest matches, this many at most (see `ranked`).
RANK_CANDIDATES = 300
RECENT_DOCUMENTS = 5_000  # looked at before the older ones (see `ranked`)
MIN_COMPOUND_PART = 6
_FTS = table("case_fts", column("rowid"))  # SQLite's FTS5 table (see the migration)
_PLACES = ("subject", "message", "note")  # where a case can match, in this order on a tie
# PostgreSQL refuses a tsvector over 1 MB; a case's text beyond this is not searched.
DOCUMENT_CHARS = 200_000
# The document PostgreSQL keeps as a stored generated column (see the migration).
DOCUMENT_SQL = ("setweight(to_tsvector('swedish', subject), 'A') || "
                "setweight(to_tsvector('swedish', messages), 'B') || "
                "setweight(to_tsvector('swedish', notes), 'C')")


@dataclass
class SearchPage(Page):
    """A page of cases found by text: each case's `Match` by its id."""

    matches: dict = field(default_factory=dict)


@dataclass
class Match:
    where: str  # subject, message or note
    snippet: str  # HTML: the text around the first hit, matched words in <mark>


def query_words(q: str) -> list[QueryWord]:
    """The words of a case search, or a problem naming `q` when it holds none."""
    words = parse(q)
    if not words:
        raise InvalidInput("q", "Write at least one word or number to search for.")
    return words


def _parts(word: QueryWord) -> set[str]:
    # Every query word must match: a short leading part ("fors" of "förskoleplats", which
    # stems to "for") would let any case match it.
    if not word.word.isalpha():
        return set()  # a number is no compound: "1912…" is not asked for by its parts
    return {part for part in word.parts if len(part) >= MIN_COMPOUND_PART}


def _pg_tsquery(words: list[QueryWord]) -> str:
    # Unstemmed: to_tsquery('swedish', …) stems each alternative as the index did.
    groups = []
    for word in words:
        # Parts as prefixes too: PostgreSQL's stemmer keeps definite endings, so the
        # case's "bygglovet" is indexed whole and "bygglovsansökan"'s "bygglov" must begin it.
        alternatives = sorted({f"{p}:*" for p in word.prefixes | _parts(word)}
                              | word.variants)
        groups.append("(" + " | ".join(alternatives) + ")")
    return " & ".join(groups)


def _fts_match(words: list[QueryWord]) -> str:
    groups = []
    for word in words:
        exact = {f'"{s}"' for s in word.stems}
        begins = {f'"{p}"*' for p in word.prefixes | {stem(p) for p in _parts(word)}}
        groups.append("(" + " OR ".join(sorted(exact | begins)) + ")")
    return " AND ".join(groups)


def matching(dialect: str, words: list[QueryWord]):
    """The cases whose document matches every query word, and each one's relevance (a
    scalar subquery on `cases`; higher is better) — both clauses on `Case.id`."""
    if dialect == "postgresql":
        tsquery = func.to_tsquery("swedish", bindparam("case_tsquery", _pg_tsquery(words),
                                                        unique=True))
        document = literal_column("case_documents.document")
        ids = select(CaseDocument.case_id).where(document.op("@@")(tsquery))
        # As a double: a real's text form would not round-trip through the page cursor.
        rank = select(func.ts_rank(document, tsquery).cast(Double)).where(
            CaseDocument.case_id == Case.id).scalar_subquery()
        return Case.id.in_(ids), rank
    match = bindparam("case_fts_match", _fts_match(words), unique=True)
    fts_rowid = _FTS.c.rowid
    hits = select(fts_rowid).select_from(_FTS).where(
        literal_column("case_fts").op("MATCH")(match))
    ids = select(CaseDocument.case_id).where(CaseDocument.id.in_(hits))
    # bm25 is lower for better matches; subject, messages, notes weigh 4, 2, 1.
    rank = select(-func.bm25(literal_column("case_fts"), 4.0, 2.0, 1.0)).select_from(
        _FTS.join(CaseDocument.__table__, CaseDocument.id == fts_rowid)).where(
        literal_column("case_fts").op("MATCH")(match),
        CaseDocument.case_id == Case.id).scalar_subquery()
    return Case.id.in_(ids), rank


def ranked(session: Session, query, words: list[QueryWord]):
    """PostgreSQL: `query` (on cases) joined to its newest matches, `RANK_CANDIDATES` at
    most, and each case's relevance read off its matched document.

    Relevance ranks the newest matches only (newest by document, written when the case came
    in): a common word matches a sixth of all cases, and ranking them all read every one of
    their documents. The newest `RECENT_DOCUMENTS` documents are looked at first (walking
    their primary key backwards, or by the GIN index within them, as the planner weighs
    it: either is bounded by them); the older ones only when those hold too few matches,
    and then by the GIN index alone (a word rare lately is not walked through every
    document, which a word matching nothing, a typo or a prefix, would otherwise cost).
    `query`'s own clauses (access, filters) hold inside the cap."""
    tsquery = func.to_tsquery("swedish", bindparam("case_tsquery", _pg_tsquery(words),
                                                    unique=True))
    document = literal_column("case_documents.document")
    floor = (session.scalar(select(func.max(CaseDocument.id))) or 0) - RECENT_DOCUMENTS

    def matches(where, order):
        return (query.with_only_columns(CaseDocument.id.label("document_id"),
                                        CaseDocument.case_id.label("case_id"),
                                        document.label("document"))
                .join_from(Case, CaseDocument, CaseDocument.case_id == Case.id)
                .where(document.op("@@")(tsquery), where)
                .order_by(order).limit(RANK_CANDIDATES))

    recent = matches(CaseDocument.id > floor, CaseDocument.id.desc()).cte("recent")
    # `id + 0`: no index gives that order or range, so the older matches come from the
    # GIN index alone.
    older = matches(CaseDocument.id + 0 <= floor, (CaseDocument.id + 0).desc()).where(
        select(func.count()).select_from(recent).scalar_subquery() < RANK_CANDIDATES)
    both = union_all(select(recent), older).subquery("both_matches")
    matched = select(both.c.case_id, func.ts_rank(both.c.document, tsquery).cast(Double)
                     .label("rank")).order_by(both.c.document_id.desc()) \
        .limit(RANK_CANDIDATES).subquery("matched")
    return query.join(matched, matched.c.case_id == Case.id), matched.c.rank


def plan_for_search(session: Session) -> None:
    """PostgreSQL, for the rest of this transaction (a search's): the plans `ranked` means.
    The planner guesses a prefix (`bygglov:*`) or a word it has no statistics for at up to
    a tenth of all documents, and then reads every document or hashes every case to find a
    handful; a search reads a few hundred rows at most, so: no sequential scans, hash or
    merge joins, nor parallel workers (starting them costs more than that on a busy
    machine); index lookups, in nested loops."""
    session.execute(text(
        "SELECT set_config('max_parallel_workers_per_gather', '0', true), "
        "set_config('enable_seqscan', 'off', true), "
        "set_config('enable_hashjoin', 'off', true), "
        "set_config('enable_mergejoin', 'off', true)"))


def snippets(session: Session, words: list[QueryWord], rows) -> dict[uuid.UUID, Match]:
    """Where each listed case matched, with the text around it highlighted: the text that
    holds the most query words (the subject, a message, a note, in that order on a tie).
    The rows are cases whose content the caller may read (the search leaves out others)."""
    texts: dict[uuid.UUID, list[tuple[str, str]]] = {
        row.id: [("subject", row.subject)] for row in rows}
    if texts:
        for case_id, direction, body in session.execute(
                select(Message.case_id, Message.direction, Message.body)
                .where(Message.case_id.in_(list(texts)))
                .order_by(Message.created_at, Message.id)):
            texts[case_id].append(("note" if direction == Direction.INTERNAL else "message",
                                   body))
    each_word = [matcher([word], prefixes=True) for word in words]
    found = {}
    for case_id, candidates in texts.items():
        best, best_hits = None, 0
        for where, body in sorted(candidates, key=lambda c: _PLACES.index(c[0])):
            tokens = set(tokens_of(body))
            hits = sum(any(hit(token) for token in tokens) for hit in each_word)
            if hits > best_hits:
                best, best_hits = (where, body), hits
        if best is not None:
            found[case_id] = Match(best[0], highlight(words, best[1], window=SNIPPET_WORDS,
                                                      prefixes=True))
    return found


def refresh(connection: Connection, case_ids: Collection[uuid.UUID]) -> None:
    """Write the search documents of these cases from what they hold now."""
    for case_id in case_ids:
        subject = connection.scalar(select(Case.subject).where(Case.id == case_id))
        if subject is None:
            continue  # deleted: its document goes with it (ON DELETE CASCADE)
        bodies = connection.execute(
            select(Message.direction, Message.body).where(Message.case_id == case_id)
            .order_by(Message.created_at, Message.id)).all()
        fields = _fields(subject, bodies)
        document_id = connection.scalar(select(CaseDocument.id)
                                        .where(CaseDocument.case_id == case_id))
        if document_id is None:
            _insert(connection, {case_id: fields})
            continue
        table = CaseDocument.__table__
        connection.execute(table.update().where(table.c.id == document_id).values(**fields))
        _write_fts(connection, document_id, fields)


def _fields(subject: str, bodies) -> dict[str, str]:
    """A document's columns from a case's subject and its (direction, body) in order."""
    conversation, notes = [], []
    for direction, body in bodies:
        (notes if direction == Direction.INTERNAL else conversation).append(body)
    return {"subject": folded(subject),
            "messages": folded(" ".join(conversation))[:DOCUMENT_CHARS],
            "notes": folded(" ".join(notes))[:DOCUMENT_CHARS]}


def _insert(connection: Connection, documents: dict[uuid.UUID, dict[str, str]]) -> None:
    """New documents by case id: on PostgreSQL one statement for all of them."""
    table = CaseDocument.__table__
    if connection.dialect.name != "sqlite":
        connection.execute(table.insert(), [{"case_id": case_id, **fields}
                                            for case_id, fields in documents.items()])
        return
    for case_id, fields in documents.items():
        document_id = connection.execute(table.insert().values(case_id=case_id, **fields)
                                         .returning(table.c.id)).scalar_one()
        _write_fts(connection, document_id, fields)


def _write_fts(connection: Connection, document_id: int, fields: dict[str, str]) -> None:
    if connection.dialect.name != "sqlite":
        return  # PostgreSQL's tsvector is a generated column of the row
    # Also for a new document: SQLite reuses a deleted document's id, and the cascade
    # that deleted it left its FTS row.
    connection.execute(text("DELETE FROM case_fts WHERE rowid = :id"), {"id": document_id})
    connection.execute(text("INSERT INTO case_fts (rowid, subject, messages, notes) "
                            "VALUES (:id, :subject, :messages, :notes)"),
                       {"id": document_id, **{name: stemmed(value)
                                              for name, value in fields.items()}})


def _touched(session: Session) -> set[uuid.UUID]:
    touched = set()
    for row in (*session.new, *session.dirty, *session.deleted):
        if isinstance(row, Message):
            changed = row in session.new or row in session.deleted \
                or inspect(row).attrs.body.history.has_changes()
            if changed and row.case_id is not None:
                touched.add(row.case_id)
        elif isinstance(row, Case) and row not in session.deleted and (
                row in session.new or inspect(row).attrs.subject.history.has_changes()):
            touched.add(row.id)
    return touched


def _after_flush(session: Session, _context) -> None:
    touched = _touched(session)
    if not touched:
        return
    connection = session.connection()
    # A case new in this flush has no document yet, and all its messages are new in it
    # too: its document is written from what the session holds, in one statement.
    new_cases = {row.id: row for row in session.new
                 if isinstance(row, Case) and row.id in touched}
    if new_cases:
        bodies: dict[uuid.UUID, list[Message]] = {case_id: [] for case_id in new_cases}
        for row in session.new:
            if isinstance(row, Message) and row.case_id in bodies:
                bodies[row.case_id].append(row)
        _insert(connection, {case_id: _fields(case.subject, [
            (m.direction, m.body)
            for m in sorted(bodies[case_id], key=lambda m: (m.created_at, m.id))])
            for case_id, case in new_cases.items()})
    refresh(connection, touched - new_cases.keys())


def index_on_flush() -> None:
    """Keep every case's search document in step, on every session (once, at app start)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


# On import: whatever writes cases imports this module (through cases.service), and a
# document missed once would leave a case unfindable. Masking runs before the flush, so the
# documents only ever hold masked text.
index_on_flush()
