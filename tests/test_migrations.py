from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from citizencenter.cli import _alembic_config, upgrade_database
from citizencenter.db import Base, load_all, make_engine


def test_one_head():
    heads = ScriptDirectory.from_config(_alembic_config()).get_heads()
    assert len(heads) == 1


def _not_fts_table(name, type_, parent_names) -> bool:
    # SQLite's FTS5 search tables (and their shadow tables) have no model: the service
    # keeps them in step with the rows they index.
    # PostgreSQL's stored tsvector of a case's search document (and its GIN index) is
    # generated from the modelled columns by the database; the model leaves it out.
    if parent_names.get("table_name") == "case_documents" and name in (
            "document", "ix_case_documents_document"):
        return False
    if parent_names.get("table_name") == "knowledge_articles" and name in (
            "search_document", "ix_knowledge_articles_document"):
        return False
    return not (type_ == "table" and name.startswith(("knowledge_fts", "case_fts")))


def test_migrated_schema_matches_the_models(engine):
    """The session's database was built by the migrations alone (see conftest).

    Column types are compared too, so a migration that drifts from its model fails here.
    """
    load_all()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_name": _not_fts_table})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrade_downgrade_upgrade_on_an_empty_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    assert {"cases", "messages", "outbox_messages", "idempotency_keys"} <= set(
        inspect(engine).get_table_names())
    command.downgrade(_alembic_config(url), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade_database(url)
    assert "cases" in inspect(engine).get_table_names()
    engine.dispose()
