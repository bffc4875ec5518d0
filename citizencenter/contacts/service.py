"""Finding and registering the citizens who contact the centre."""

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.config import Config, ConfigError
from citizencenter.contacts.models import Contact

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
