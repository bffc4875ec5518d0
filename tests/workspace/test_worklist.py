"""My work: my open cases and my queues' waiting ones, the most urgent first; the waiting
count; searching by reference, name, number, address and subject."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from citizencenter.cases.models import Case
from citizencenter.contacts.models import Contact
from citizencenter.db import utcnow
from citizencenter.errors import InvalidInput
from citizencenter.pagination import InvalidCursor
from citizencenter.workspace import service as workspace
from tests.workspace.conftest import (
    add_case,
    add_timer,
    add_user,
    department_id,
    principal,
    queue_id,
)


def _waiting(session, queue: str, minutes_ago: float, **fields):
    since = utcnow() - timedelta(minutes=minutes_ago)
    return add_case(session, minutes_ago=minutes_ago, queue_id=queue_id(session, queue),
                    waiting_since=since, **fields)


def test_the_worklist_puts_the_earliest_due_first_then_the_newest(session, paginator):
    me, other = add_user(session, queues=["epost"]), add_user(session, queues=["epost"])
    actor = principal(me)
    breached = add_case(session, minutes_ago=300, assignee_id=me.id)
    add_timer(session, breached, due_in_min=-10, warn_in_min=-40)
    warned = _waiting(session, "epost", 200)
    add_timer(session, warned, due_in_min=30, warn_in_min=-5)
    fine = add_case(session, minutes_ago=100, assignee_id=me.id, status="waiting_on_citizen")
    add_timer(session, fine, due_in_min=120, warn_in_min=90)
    add_timer(session, fine, due_in_min=5, warn_in_min=1, status="paused")  # not ticking
    older_no_clock = _waiting(session, "epost", 50)
    newer_no_clock = add_case(session, minutes_ago=10, assignee_id=me.id, status="new")
    # Not mine: another guide's, a queue I do not serve, finished, or not waiting (unrouted).
    add_case(session, minutes_ago=1, assignee_id=other.id)
    _waiting(session, "kontaktcenter", 1)
    add_case(session, minutes_ago=1, assignee_id=me.id, status="resolved")
    add_case(session, minutes_ago=1, queue_id=queue_id(session, "epost"))
    session.commit()

    page = workspace.worklist(session, actor, paginator)
    assert [item.case.id for item in page.items] == [
        breached, warned, fine, newer_no_clock, older_no_clock]
    assert [item.sla_state for item in page.items] == ["breached", "warn", "ok", None, None]
    assert [item.mine for item in page.items] == [True, False, True, True, False]
    assert page.items[2].next_due_at > utcnow() + timedelta(minutes=100)
    assert page.items[3].next_due_at is None
    assert 290 * 60 <= page.items[0].age_s <= 310 * 60
    assert page.next_cursor is None

    # Two by two: the cursor follows the mixed order (due ascending, then newest).
    seen, cursor = [], None
    while True:
        page = workspace.worklist(session, actor, paginator, limit=2, cursor=cursor)
        seen += [item.case.id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [breached, warned, fine, newer_no_clock, older_no_clock]
    with pytest.raises(InvalidCursor):
        workspace.worklist(session, actor, paginator, cursor="not-one-of-ours")
    with pytest.raises(InvalidCursor):  # a cursor belongs to its filters
        workspace.worklist(session, actor, paginator, limit=2, channel="phone",
                           cursor=workspace.worklist(session, actor, paginator,
                                                     limit=2).next_cursor)

    assert [i.case.id for i in workspace.worklist(session, actor, paginator, status="new")
            .items] == [newer_no_clock]
    assert workspace.worklist(session, actor, paginator, channel="phone").items == []


def test_a_guide_without_queues_serves_every_queue_of_the_centre(session, paginator):
    me = add_user(session)
    in_centre = _waiting(session, "kontaktcenter", 5)
    department_queue = _waiting(session, "bygglov", 5)
    session.commit()
    ids = {item.case.id for item in workspace.worklist(session, principal(me), paginator).items}
    assert in_centre in ids and department_queue not in ids
    assert workspace.waiting_count(session, principal(me)) >= 1


def test_the_waiting_count_is_what_waits_in_my_queues(session):
    me = add_user(session, queues=["sociala-medier"])
    before = workspace.waiting_count(session, principal(me))
    _waiting(session, "sociala-medier", 5)
    _waiting(session, "sociala-medier", 6, status="new")
    _waiting(session, "sociala-medier", 7, assignee_id=me.id)  # taken
    _waiting(session, "sociala-medier", 8, status="waiting_on_citizen")
    _waiting(session, "epost", 5)
    session.commit()
    assert workspace.waiting_count(session, principal(me)) == before + 2


def test_a_guide_neither_counts_nor_lists_confidential_cases_they_cannot_take(session,
                                                                              paginator):
    """Routing gives a confidential case from a queue only to those who read every one."""
    me = add_user(session, queues=["sociala-medier"])
    supervisor = add_user(session, role="supervisor", queues=["sociala-medier"])
    before = {user.id: workspace.waiting_count(session, principal(user))
              for user in (me, supervisor)}
    plain = _waiting(session, "sociala-medier", 5)
    marked = _waiting(session, "sociala-medier", 6, confidential_at=utcnow(),
                      confidential_reason="OSL 26 kap. 1 §")
    session.commit()
    assert workspace.waiting_count(session, principal(me)) == before[me.id] + 1
    assert workspace.waiting_count(session, principal(supervisor)) == before[supervisor.id] + 2
    listed = {item.case.id for item in workspace.worklist(session, principal(me), paginator).items}
    assert plain in listed and marked not in listed
    listed = {item.case.id
              for item in workspace.worklist(session, principal(supervisor), paginator).items}
    assert {plain, marked} <= listed


def test_department_staff_see_only_their_departments_cases(session, paginator):
    staff = add_user(session, role="department", department="stadsbyggnad")
    colleague = add_user(session, role="department", department="stadsbyggnad")
    ours = department_id(session, "stadsbyggnad")
    forwarded = add_case(session, minutes_ago=30, status="forwarded", department_id=ours,
                         subject="Plank mot gatan")
    mine = add_case(session, minutes_ago=20, status="open", department_id=ours,
                    assignee_id=staff.id)
    add_case(session, minutes_ago=10, status="open", department_id=ours,
             assignee_id=colleague.id)
    elsewhere = add_case(session, minutes_ago=5, status="forwarded",
                         department_id=department_id(session, "miljo"), subject="Plank bullrar")
    _waiting(session, "kontaktcenter", 1, subject="Plank i parken")
    session.commit()
    actor = principal(staff)
    ids = [item.case.id for item in workspace.worklist(session, actor, paginator).items]
    assert mine in ids and forwarded in ids and elsewhere not in ids and len(ids) >= 2
    assert all(item.case.department_id == ours
               for item in workspace.worklist(session, actor, paginator).items)
    before = workspace.waiting_count(session, actor)
    add_case(session, status="new", department_id=ours)
    session.commit()
    assert workspace.waiting_count(session, actor) == before + 1 >= 2
    found = [c.id for c in workspace.search(session, actor, paginator, "plank").items]
    assert found == [forwarded]


def test_search_finds_by_reference_name_number_address_and_subject(session, paginator):
    me = add_user(session)
    actor = principal(me)
    karin = Contact(name="Karin Ekström", email="karin.ekstrom@example.se", phone="+46701234567")
    other = Contact(name="Olle Berg", email="olle@example.se", phone="+46709876543")
    session.add_all([karin, other])
    session.flush()
    first = add_case(session, minutes_ago=60, contact_id=karin.id, subject="Parkeringstillstånd")
    second = add_case(session, minutes_ago=30, contact_id=karin.id,
                      subject="Sophämtning i Zebrastigen")
    olles = add_case(session, minutes_ago=10, contact_id=other.id,
                     subject="Fråga om 100% bidrag_x")
    session.commit()
    reference = session.scalar(select(Case.reference).where(Case.id == first))

    def found(text):
        return [c.id for c in workspace.search(session, actor, paginator, text).items]

    assert found(reference.lower()) == [first]
    assert found("ekströ") == [second, first]
    assert found("070-123 45 67") == [second, first]  # a national number, normalised
    assert found("+46 70 123 45 67") == [second, first]
    assert found("Karin.Ekstrom@Example.se") == [second, first]
    assert found("ämtning i zebra") == [second]
    assert found("100%") == [olles] and found("g_x") == [olles]  # no wildcards
    assert found("finns inte") == []
    page = workspace.search(session, actor, paginator, "ekström", limit=1)
    assert [c.id for c in page.items] == [second]
    rest = workspace.search(session, actor, paginator, "ekström", limit=1,
                            cursor=page.next_cursor)
    assert [c.id for c in rest.items] == [first]
    for bad in ("", "   ", "x" * 201):
        with pytest.raises(InvalidInput):
            workspace.search(session, actor, paginator, bad)


def test_department_staff_do_not_find_the_centres_cases(session, paginator):
    staff = principal(add_user(session, role="department", department="stadsbyggnad"))
    contact = Contact(name="Sekretessa Person", phone="+46701112233")
    session.add(contact)
    session.flush()
    add_case(session, contact_id=contact.id, subject="Hemlig fråga")
    session.execute(update(Case).where(Case.contact_id == contact.id).values(department_id=None))
    session.commit()
    assert workspace.search(session, staff, paginator, "Sekretessa").items == []
    assert workspace.search(session, staff, paginator, "0701112233").items == []
