"""Finding and registering the citizens who contact the centre."""

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.contacts.models import Contact

_PHONE_NOISE = re.compile(r"[\s\-().]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def normalise_phone(raw: str, default_country_code: str = "46") -> str:
    """Return the number in E.164; Swedish national numbers (0…) get +46."""
    number = _PHONE_NOISE.sub("", raw.strip())
    if number.startswith("00"):
        number = "+" + number[2:]
    elif number.startswith("0"):
        number = f"+{default_country_code}{number[1:]}"
    if not _E164.match(number):
        raise ValueError("Not a valid phone number.")
    return number


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
