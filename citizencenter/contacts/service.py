"""Finding and registering the citizens who contact the centre."""

from collections.abc import Collection

import phonenumbers
from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session

from citizencenter.audit import service as audit
from citizencenter.config import Config, ConfigError
from citizencenter.contacts.models import Contact
from citizencenter.db import utcnow
from citizencenter.errors import InvalidInput, NotFound

_default_region = Config.PHONE_DEFAULT_REGION


def set_default_region(region: str) -> None:
    """Read national numbers (without +country code) as numbers of ``region``, e.g. "SE"."""
    global _default_region
    region = region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"PHONE_DEFAULT_REGION {region!r} is not a known region, e.g. SE")
    _default_region = region


def normalise_phone(raw: str, region: str | None = None) -> str:
    """Return the number in E.164; national numbers are read as the default region's.

    "046-35 50 00", "+46 (0)46 35 50 00" and "+46 46 35 50 00" are one number. A
    number that cannot be dialled (wrong length, unknown range) is a ValueError.
    """
    try:
        number = phonenumbers.parse(raw, region or _default_region)
    except phonenumbers.NumberParseException:
        raise ValueError("Not a valid phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("Not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_or_create(session: Session, *, name: str | None = None, email: str | None = None,
                   phone: str | None = None) -> Contact | None:
    """Match an existing contact by e-mail, then phone; otherwise register a new one."""
    email = email.strip().lower() if email else None
    if not (name or email or phone):
        return None
    contact = None
    if email:
        contact = session.scalar(select(Contact).where(Contact.email == email)
                                 .order_by(Contact.id).limit(1))
    if contact is None and phone:
        contact = session.scalar(select(Contact).where(Contact.phone == phone)
                                 .order_by(Contact.id).limit(1))
    if contact is None:
        contact = Contact(name=name, email=email, phone=phone)
        session.add(contact)
        return contact
    # Fill in what we did not know; never overwrite what the citizen told us before.
    contact.name = contact.name or name
    contact.email = contact.email or email
    contact.phone = contact.phone or phone
    return contact


# Kinds of protected identity (skyddade personuppgifter) a contact can be marked with.
PROTECTION_KINDS = ("sekretessmarkering", "skyddad_folkbokforing", "fingerade_personuppgifter")


def protected_ids():
    """A subquery of the ids of contacts with a protected identity (few; indexed)."""
    return select(Contact.id).where(Contact.protection.is_not(None))


def unprotected(contact_id, protected: Collection[int] | None = None):
    """`contact_id` (a column) names no contact, or one without a protected identity.

    With `protected` (the ids `protected_ids` selects, read beforehand) the clause is a
    plain list, none at all when there are none: the planner then weighs a hot list's
    plan as without it, where the subquery's guessed selectivity turns it to a full join.
    """
    if protected is None:
        return or_(contact_id.is_(None), contact_id.not_in(protected_ids()))
    return or_(contact_id.is_(None), contact_id.not_in(sorted(protected))) if protected \
        else true()


def visible_contacts(sees_protected: bool):
    """The contacts a caller may find: protected ones only with the protected permission."""
    query = select(Contact)
    return query if sees_protected else query.where(Contact.protection.is_(None))


def is_protected(contact: Contact | None) -> bool:
    return contact is not None and contact.protection is not None


def protect(session: Session, actor: str, contact_id: int, kind: str) -> Contact:
    """Mark a contact's identity protected (supervisors, admins); audited without the name."""
    if kind not in PROTECTION_KINDS:
        raise InvalidInput("kind", f"One of {', '.join(PROTECTION_KINDS)}.")
    contact = _contact(session, contact_id)
    if contact.protection != kind:
        previous = contact.protection
        contact.protection, contact.protected_by, contact.protected_at = kind, actor, utcnow()
        audit.record(session, actor, "contact.protected", "contact", contact.id,
                     old={"kind": previous}, new={"kind": kind})
    session.commit()
    return contact


def unprotect(session: Session, actor: str, contact_id: int) -> None:
    """Lift a contact's protected identity (supervisors, admins); audited."""
    contact = _contact(session, contact_id)
    if contact.protection is not None:
        audit.record(session, actor, "contact.unprotected", "contact", contact.id,
                     old={"kind": contact.protection})
        contact.protection = contact.protected_by = contact.protected_at = None
    session.commit()


def _contact(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("No such contact.")
    return contact
