"""Sending e-mail over SMTP (STARTTLS and auth as configured). One message per connection:
sends are rare enough, and a fresh connection never reuses a broken session."""

import smtplib
import ssl
from email.message import EmailMessage


class MailNotSent(RuntimeError):
    pass


def send(message: EmailMessage, config) -> None:
    """Deliver `message`; raises MailNotSent on any failure so the task can retry."""
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"],
                          timeout=config["SMTP_TIMEOUT_S"]) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            refused = smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailNotSent(type(exc).__name__) from None
    if refused:
        raise MailNotSent("recipient refused")
