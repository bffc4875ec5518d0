"""Signed, expiring feedback links that carry only a random nonce."""

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from citizencenter.errors import AppError

SALT = "feedback-link"


class LinkInvalid(AppError):
    status, title, slug = 400, "Invalid feedback link", "feedback-link-invalid"


class LinkGone(AppError):
    status, title, slug = 410, "Feedback link no longer valid", "feedback-link-gone"


def sign(secret_key: str, nonce: str) -> str:
    return URLSafeTimedSerializer(secret_key, salt=SALT).dumps(nonce)


def nonce_of(secret_key: str, token: str, max_age_s: int) -> str:
    """The nonce a token carries; LinkGone when expired, LinkInvalid when not ours."""
    try:
        nonce = URLSafeTimedSerializer(secret_key, salt=SALT).loads(token, max_age=max_age_s)
    except SignatureExpired:
        raise LinkGone("Länken har gått ut.") from None
    except BadSignature:
        raise LinkInvalid("Länken är inte giltig.") from None
    if not isinstance(nonce, str):
        raise LinkInvalid("Länken är inte giltig.")
    return nonce
