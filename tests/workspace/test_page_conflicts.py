"""The case page when a worker changes the case while a guide's change is being saved: the
guide sees the conflict message with the case as it is now and keeps what they typed,
never an error page or a lost reply."""

import re

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from citizencenter.accounts import passwords
from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Channel
from citizencenter.cases.models import Message
from tests.web.conftest import PASSWORD, USERS

HTTPS = "https://localhost"  # the session cookie is Secure, and CSRF checks the Referer


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_a_reply_racing_a_worker_keeps_the_text_and_says_so(app, session, monkeypatch):
    passwords.set_password(session, USERS["guide"][0], PASSWORD)
    case = cases.open_case(session, SYSTEM, channel=Channel.EMAIL, subject="Parkering",
                           description="Får jag parkera här?",
                           contact={"name": "Eva Ek", "email": "eva.ek@example.se"})
    client = app.test_client()
    login = client.get("/login", base_url=HTTPS).text
    signed_in = client.post("/login", base_url=HTTPS, headers={"Referer": HTTPS + "/login"},
                            data={"email": USERS["guide"][0], "password": PASSWORD,
                                  "csrf_token": _token(login)})
    assert signed_in.status_code == 302
    page = client.get(f"/cases/{case.id}", base_url=HTTPS).text

    def changed_meanwhile(*_args, **_kwargs):
        raise StaleDataError("UPDATE statement on table 'cases' expected to update 1 row(s)")

    monkeypatch.setattr(cases.delivery, "attach", changed_meanwhile)
    answer = client.post(f"/cases/{case.id}/reply", base_url=HTTPS,
                         headers={"Referer": f"{HTTPS}/cases/{case.id}"},
                         data={"csrf_token": _token(page), "version": str(case.version),
                               "form": "reply", "body": "Ja, med tillstånd."})
    assert answer.status_code == 409
    assert "Någon annan ändrade ärendet medan du arbetade" in answer.text
    assert "Ja, med tillstånd." in answer.text  # the reply is kept to send again
    monkeypatch.undo()
    session.expire_all()
    assert session.scalars(select(Message.body).where(Message.case_id == case.id)).all() == [
        "Får jag parkera här?"]
