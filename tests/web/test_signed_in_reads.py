"""What a signed-in page reads of its user: kept per process while the users stay unchanged,
read afresh as soon as one changes (a deactivation signs the user out at the next page)."""

import re

from sqlalchemy import event

from citizencenter.accounts import passwords
from citizencenter.accounts.models import User
from tests.workspace.conftest import add_user

CSRF_FIELD = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
PASSWORD = "ett-lösenord-för-sidans-läsningar"


def _sign_in(client, email: str) -> None:
    token = CSRF_FIELD.search(client.get("/login").text).group(1)
    answer = client.post("/login", data={"email": email, "password": PASSWORD,
                                         "csrf_token": token})
    assert answer.status_code in (302, 303), answer.text


def _users_read(session, client, path: str = "/") -> tuple[int, list[str]]:
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        status = client.get(path).status_code
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return status, [s for s in seen if "FROM users" in s]


def test_a_page_finds_its_user_kept_until_a_user_changes(session, client):
    user = add_user(session)
    passwords.set_password(session, user.email, PASSWORD)
    _sign_in(client, user.email)
    client.get("/")  # the first page after signing in keeps the user
    session.expunge_all()  # nothing left in the session to find it in
    status, users_read = _users_read(session, client)
    assert status == 200 and users_read == []

    session.get(User, user.id).active = False
    session.commit()
    assert client.get("/").status_code in (302, 303)  # signed out at once
