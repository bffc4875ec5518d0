import pytest

from citizencenter.accounts.models import Role
from citizencenter.accounts.service import Principal
from citizencenter.knowledge import service
from tests.knowledge.articles import ARTICLES

SUPERVISOR = Principal(actor="user:test-supervisor", scopes=frozenset({"cases:write"}),
                       role=Role.SUPERVISOR)


@pytest.fixture
def article_set(session) -> dict[str, int]:
    """The Swedish test articles, written through the service; their ids by key."""
    ids = {}
    for key, title, body, category, department, audience in ARTICLES:
        article = service.create_article(session, SUPERVISOR, title=title, body=body,
                                         category=category, department=department,
                                         audience=audience)
        ids[key] = article.id
    return ids
