"""Finding one person: their contacts, cases and call records, from one identifier.

A person is named by an e-mail address, a phone number (read as the contacts store it,
E.164) or a personnummer (found through its keyed hash, never compared in clear). What
was asked for stays in this process: it is never logged, audited or put in a URL.
"""

import uuid
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from citizencenter.cases.models import Case
from citizencenter.channels.phone.models import Call
from citizencenter.contacts import service as contacts
from citizencenter.contacts.models import Contact
from citizencenter.errors import InvalidInput
from citizencenter.privacy import detection
from citizencenter.privacy import service as privacy
from citizencenter.privacy.models import IdentityNumber

KINDS = ("email", "phone", "personnummer")


@dataclass(frozen=True)
class Identifier:
    """What names the person: one of KINDS and its normalised value."""

    kind: str
    value: str

    def __repr__(self) -> str:  # never the value, should one be printed by mistake
        return f"Identifier(kind={self.kind!r})"


@dataclass
class Person:
    """Everything that is one person's: found by `identifier`."""

    identifier: Identifier
    contacts: list[Contact] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    @property
    def emails(self) -> set[str]:
        found = {c.email for c in self.contacts if c.email}
        return found | ({self.identifier.value} if self.identifier.kind == "email" else set())

    @property
    def phones(self) -> set[str]:
        found = {c.phone for c in self.contacts if c.phone}
        return found | ({self.identifier.value} if self.identifier.kind == "phone" else set())

    def is_own(self, case: Case) -> bool:
        """Whether the case is one of the person's contacts' (else it only names them)."""
        return case.contact_id is not None and case.contact_id in {c.id for c in self.contacts}

    @property
    def case_ids(self) -> list[uuid.UUID]:
        return [case.id for case in self.cases]


def identifier(*, email: str | None = None, phone: str | None = None,
               personnummer: str | None = None) -> Identifier:
    """The one identifier given, normalised; bad or several is InvalidInput (no value echoed)."""
    given = {k: v for k, v in (("email", email), ("phone", phone),
                               ("personnummer", personnummer)) if v is not None}
    if len(given) != 1:
        raise InvalidInput("identifier", "Give exactly one of email, phone and personnummer.")
    kind, raw = given.popitem()
    raw = raw.strip()
    if kind == "email":
        local, at, domain = raw.partition("@")
        if not (local and at and "." in domain) or len(raw) > 254 or any(
                c.isspace() for c in raw):
            raise InvalidInput("email", "Not a valid e-mail address.")
        return Identifier("email", raw.lower())
    if kind == "phone":
        try:
            return Identifier("phone", contacts.normalise_phone(raw))
        except ValueError:
            raise InvalidInput("phone", "Not a valid phone number.") from None
    number = detection.identity_number(raw)
    if number is None:
        raise InvalidInput("personnummer", "Not a valid personnummer or samordningsnummer "
                           "(10 or 12 digits, a real date, a valid check digit).")
    return Identifier("personnummer", number)


def find(session: Session, who: Identifier) -> Person:
    """The person's contacts, their cases (and the cases their number was found on), calls."""
    person = Person(who)
    if who.kind == "personnummer":
        numbered = privacy.case_ids_of(who.value)
        # A contact is the person when their number is the only one on the contact's cases;
        # one who also wrote another number (a parent about two children) is someone else,
        # whose other cases and details are theirs, though the case naming the person is not.
        others = (select(Case.contact_id).join(IdentityNumber, IdentityNumber.case_id == Case.id)
                  .where(Case.contact_id.is_not(None),
                         IdentityNumber.lookup_hash.not_in(privacy.lookup_hashes(who.value))))
        person.contacts = list(session.scalars(
            select(Contact).where(
                Contact.id.in_(select(Case.contact_id).where(Case.id.in_(numbered))),
                Contact.id.not_in(others)).order_by(Contact.id)))
        case_filter = or_(Case.id.in_(numbered),
                          Case.contact_id.in_([c.id for c in person.contacts]))
    else:
        column = Contact.email if who.kind == "email" else Contact.phone
        person.contacts = list(session.scalars(
            select(Contact).where(column == who.value).order_by(Contact.id)))
        case_filter = Case.contact_id.in_([c.id for c in person.contacts])
    person.cases = list(session.scalars(
        select(Case).where(case_filter).order_by(Case.received_at, Case.id)).unique())
    calls = [Call.case_id.in_(person.case_ids), Call.callback_case_id.in_(person.case_ids)]
    if person.phones:
        calls.append(Call.caller.in_(sorted(person.phones)))
    person.calls = list(session.scalars(select(Call).where(or_(*calls))
                                        .order_by(Call.entered_at, Call.id)))
    return person
