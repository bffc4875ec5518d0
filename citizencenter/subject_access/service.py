"""The use cases: export everything held about one person (GDPR art. 15), erase it (art. 17).

Both are for administrators and are audited with who asked, the kind of identifier and the
rows it reached; never the identifier itself.
"""

from sqlalchemy.orm import Session

from citizencenter.audit import service as audit
from citizencenter.subject_access import document, finding

EXPORT_SCOPE = "personal_data:export"
ERASE_SCOPE = "personal_data:erase"


def export_person(session: Session, actor: str, **identifier: str | None) -> bytes:
    """The ZIP archive of one person's data: a JSON document and their files."""
    person = finding.find(session, finding.identifier(**identifier))
    content, archive = document.build(session, person)
    audit.record(session, actor, "personal_data.exported", "contact",
                 _entity(person), identified_by=person.identifier.kind,
                 contacts=[c.id for c in person.contacts],
                 cases=[c.reference for c in person.cases], calls=len(person.calls),
                 files=len(archive.files))
    session.commit()
    return document.zipped(content, archive)


def _entity(person: finding.Person) -> str:
    return str(person.contacts[0].id) if person.contacts else "-"
