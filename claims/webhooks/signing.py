"""Standard Webhooks signatures (https://www.standardwebhooks.com/, "Signature scheme").

The signed content is `{webhook-id}.{webhook-timestamp}.{body}`; the signature is
its HMAC-SHA256 under the secret's key (the base64 after `whsec_`), sent as
`v1,<base64>` in `webhook-signature`. `verify` is what a subscriber runs; it is
here for the docs' example and for anyone who receives from this ledger in Python.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from claims.webhooks.models import SECRET_PREFIX

# How far a receiver lets `webhook-timestamp` be from its clock (the spec suggests 5 minutes).
TOLERANCE_SECONDS = 300


class InvalidSignature(Exception):
    pass


def key_of(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key_of(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, body: bytes, *, timestamp: int | None = None) -> dict:
    """The three Standard Webhooks headers for one attempt (the timestamp is its own)."""
    when = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(when),
        "webhook-signature": signature(secret, message_id, when, body),
    }


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float | None = None) -> None:
    """Raise InvalidSignature unless `headers` sign `body` with `secret`, recently.

    `headers` with lower-case names. Any of the space-separated `v1,` signatures may
    match (several are sent while a secret is being rotated).
    """
    try:
        message_id = headers["webhook-id"]
        timestamp = int(headers["webhook-timestamp"])
        signatures = headers["webhook-signature"].split()
    except (KeyError, ValueError) as exc:
        raise InvalidSignature(f"missing or malformed header: {exc}") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > TOLERANCE_SECONDS:
        raise InvalidSignature("timestamp too far from now")
    expected = signature(secret, message_id, timestamp, body)
    if not any(hmac.compare_digest(expected, given) for given in signatures):
        raise InvalidSignature("no signature matches")
