"""The use cases: export everything held about one person (GDPR art. 15), erase it (art. 17).

Both are for administrators and are audited with who asked, the kind of identifier and the
rows it reached; never the identifier itself.
"""

from sqlalchemy.orm import Session

from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.errors import Forbidden
from citizencenter.subject_access import document, erasure, finding

EXPORT_SCOPE = "personal_data:export"
ERASE_SCOPE = "personal_data:erase"


def export_person(session: Session, actor: Principal, **identifier: str | None) -> bytes:
    """The ZIP archive of one person's data: a JSON document and their files."""
    person = _reachable(actor, finding.find(session, finding.identifier(**identifier)))
    content, archive = document.build(session, person)
    audit.record(session, actor.actor, "personal_data.exported", "contact",
                 _entity(person), identified_by=person.identifier.kind,
                 contacts=[c.id for c in person.contacts],
                 cases=[c.reference for c in person.cases], calls=len(person.calls),
                 files=len(archive.files))
    session.commit()
    return document.zipped(content, archive)


def erase_person(session: Session, actor: Principal, *, dry_run: bool = False,
                 **identifier: str | None) -> dict:
    """Erase one person's data where no hold, open case or retention rule keeps it; report
    what was erased and what was kept and why (a dry run erases nothing)."""
    person = _reachable(actor, finding.find(session, finding.identifier(**identifier)))
    report = erasure.erase(session, person, actor=actor.actor, dry_run=dry_run)
    audit.record(session, actor.actor, "personal_data.erasure_planned" if dry_run
                 else "personal_data.erased", "contact", _entity(person),
                 identified_by=person.identifier.kind,
                 erased=[(i["kind"], i["reference"] or i["id"]) for i in report.erased],
                 kept=[(i["kind"], i["reference"] or i["id"], i["reason"])
                       for i in report.kept])
    session.commit()
    return report.as_dict()


def _reachable(actor: Principal, person: finding.Person) -> finding.Person:
    """A protected identity's data is handled only by staff granted to see it, as its cases
    are; the refusal names no person."""
    protected = any(c.protection for c in person.contacts) or any(
        case.contact is not None and case.contact.protection for case in person.cases)
    if protected and not actor.sees_protected:
        raise Forbidden("This request reaches data under a protected identity; it needs the "
                        "permission to see protected identities (cases:protected).")
    return person


def _entity(person: finding.Person) -> str:
    return str(person.contacts[0].id) if person.contacts else "-"
