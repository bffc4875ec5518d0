"""A confidential case's page in a real browser: the guide who may not read it sees the
marking and no content; the supervisor reads it, and that read is audited."""

from playwright.sync_api import expect
from sqlalchemy import select

from citizencenter import db
from citizencenter.accounts.service import SYSTEM
from citizencenter.audit.models import AuditEntry
from citizencenter.cases import marking
from citizencenter.cases import service as cases_service
from citizencenter.cases.enums import Channel, Direction
from citizencenter.cases.models import CONFIDENTIAL_SUBJECT
from tests.web.conftest import assert_accessible, screenshot

SUBJECT = "Orosanmälan om grannens barn"
BODY = "Barnet far illa enligt anmälaren"
NOTE = "Anteckning: kontakta socialtjänsten"


def _confidential_case(session):
    case = cases_service.open_case(session, SYSTEM, channel=Channel.PHONE, subject=SUBJECT,
                                   description=BODY, category="ekonomiskt-bistand",
                                   contact={"name": "Sven Ek", "phone": "070-111 22 44"})
    case_id = case.id
    cases_service.add_message(session, SYSTEM, case_id, direction=Direction.INTERNAL,
                              body=NOTE)
    marking.mark(session, SYSTEM, case_id, "26 kap. 1 § OSL")
    db.session.remove()
    return case_id


def test_the_guide_sees_the_marking_and_no_content(committed, guide_page):
    case_id = _confidential_case(committed)
    guide_page.goto(f"/cases/{case_id}")
    main = guide_page.get_by_role("main")
    expect(guide_page.get_by_role("heading", level=1)).to_contain_text(CONFIDENTIAL_SUBJECT)
    expect(guide_page.get_by_role("note")).to_contain_text("Sekretessmarkerat ärende")
    expect(main).not_to_contain_text(SUBJECT)
    expect(main).not_to_contain_text(BODY)
    expect(main).not_to_contain_text(NOTE)
    expect(guide_page.get_by_label("Svar")).to_have_count(0)  # no blind replies
    # Nor blind handling decisions: no status, forwarding or resolving; triage stays.
    expect(guide_page.get_by_label("Ärendestatus")).to_have_count(0)
    for button in ("Vidarebefordra", "Avsluta", "Lägg tillbaka i kön"):
        expect(main.get_by_role("button", name=button, exact=True)).to_have_count(0)
    expect(main).to_contain_text("Status, handläggare, vidarebefordran och avslut ändras av "
                                 "dem som får läsa ärendet.")
    guide_page.get_by_label("Prioritet").select_option("high")
    guide_page.get_by_role("button", name="Spara prioritet").click()
    expect(guide_page.locator("#priority-feedback")).to_contain_text("Prioriteten är sparad.")
    # The archival copy holds the content: no link to a download that would be refused.
    expect(main.get_by_role("link", name="Ladda ner arkivexemplar (HTML) för registrering")) \
        .to_have_count(0)
    assert SUBJECT not in guide_page.content() and BODY not in guide_page.content()
    assert_accessible(guide_page)
    screenshot(guide_page, "confidential-case-hidden")
    reads = committed.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_id == str(case_id), AuditEntry.action.like("case.%read"))).all()
    committed.rollback()
    assert reads == ["case.read"]  # shown that it exists; no content read


def test_the_supervisor_reads_it_and_the_read_is_audited(committed, supervisor_page):
    case_id = _confidential_case(committed)
    supervisor_page.goto(f"/cases/{case_id}")
    expect(supervisor_page.get_by_role("heading", level=1)).to_contain_text(SUBJECT)
    expect(supervisor_page.get_by_role("note")).to_contain_text("26 kap. 1 § OSL")
    expect(supervisor_page.get_by_role("main")).to_contain_text(NOTE)
    expect(supervisor_page.get_by_role("link", name="Ladda ner arkivexemplar (HTML) för "
                                                    "registrering")).to_have_count(1)
    assert_accessible(supervisor_page)
    reads = committed.scalars(select(AuditEntry).where(
        AuditEntry.entity_id == str(case_id),
        AuditEntry.action == "case.confidential_read")).all()
    views = [(entry.actor.startswith("user:"), entry.data["view"]) for entry in reads]
    committed.rollback()
    assert views == [(True, "page")]
