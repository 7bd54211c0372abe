"""Operator authentication for the dashboard: API keys, signed session cookies, CSRF tokens.

* The keys are the serving function's: ``$HOOKLINE_API_KEYS`` (comma separated; the
  variable's name comes from ``[serving] api_keys_env``). A key is compared in constant time
  against every configured key.
* An operator logs in once with a key and a name and gets a session cookie: a JSON payload
  signed with HMAC-SHA256, ``HttpOnly``, ``SameSite=Strict``, ``Secure`` over HTTPS. It names
  the operator and the key's fingerprint (never the key), so removing a key from the
  environment ends its sessions.
* Every session, logged in or not, carries a random CSRF token that each form posts back in a
  hidden field; a POST whose token is missing or wrong is refused with 403.

The signing secret is ``$HOOKLINE_UI_SECRET`` when set, else derived from the configured keys
(so every instance of a scaled-out dashboard accepts the same cookies), else random per
process (local use without keys).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["COOKIE", "Auth", "Session", "load_keys"]

COOKIE = "hookline_session"
SECRET_ENV = "HOOKLINE_UI_SECRET"
DEFAULT_KEYS_ENV = "HOOKLINE_API_KEYS"
SESSION_SECONDS = 12 * 3600
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._@-+")


def load_keys(
    env_name: str = DEFAULT_KEYS_ENV, environ: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """The API keys in the environment variable ``env_name`` (comma separated, blanks
    dropped)."""
    raw = (os.environ if environ is None else environ).get(env_name, "")
    return tuple(k.strip() for k in raw.split(",") if k.strip())


def fingerprint(key: str) -> str:
    """A short, non-secret name for a key: the first 8 hex digits of its sha256."""
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def clean_operator(name: str) -> str:
    """An operator name fit for the alias history: printable, at most 64 characters."""
    kept = "".join(ch for ch in name.strip() if ch in _NAME_CHARS)[:64].strip()
    return kept


@dataclass(frozen=True, slots=True)
class Session:
    """What the session cookie says.

    :param csrf: the token every form of this session posts back.
    :param operator: who logged in, or ``None`` for an anonymous session.
    :param key_id: the fingerprint of the key used to log in.
    :param expires: seconds since the epoch.
    :param new: the cookie must be (re)sent with the response.
    """

    csrf: str
    operator: str | None = None
    key_id: str | None = None
    expires: float = 0.0
    new: bool = False

    @property
    def actor(self) -> str | None:
        """The ``by`` recorded in the alias history for this operator's actions."""
        if self.operator is None:
            return None
        return (
            f"{self.operator} [dashboard, key {self.key_id}]"
            if self.key_id
            else (f"{self.operator} [dashboard]")
        )


class Auth:
    """Keys, sessions and CSRF checks for one dashboard app.

    :param keys: the accepted API keys; empty means no key is configured.
    :param secret: the cookie signing secret (see the module docstring for the default).
    :param local_operator: when no key is configured, the operator recorded for actions
        (the dashboard then runs for one person on a loopback address); ``None`` disables
        actions until keys are configured.
    """

    def __init__(
        self, keys: Sequence[str], *, secret: bytes | None = None, local_operator: str | None = None
    ) -> None:
        self.keys = tuple(keys)
        self._ids = {fingerprint(k) for k in self.keys}
        env_secret = os.environ.get(SECRET_ENV)
        if secret is None and env_secret:
            secret = env_secret.encode()
        if secret is None and self.keys:
            secret = hmac.new(
                b"hookline-dashboard-session", "\n".join(sorted(self.keys)).encode(), hashlib.sha256
            ).digest()
        self._secret = secret or secrets.token_bytes(32)
        self.local_operator = local_operator

    @property
    def required(self) -> bool:
        """Whether a key is configured, so every page needs a logged-in session."""
        return bool(self.keys)

    @property
    def actions_enabled(self) -> bool:
        return self.required or self.local_operator is not None

    # -- keys -----------------------------------------------------------------------------

    def match_key(self, candidate: str) -> str | None:
        """The fingerprint of the configured key equal to ``candidate``, else ``None``.
        Every key is compared, in constant time, whatever matches."""
        given = candidate.encode()
        found = None
        for key in self.keys:
            if hmac.compare_digest(given, key.encode()):
                found = fingerprint(key)
        return found

    # -- sessions -------------------------------------------------------------------------

    def new_session(self, operator: str | None = None, key_id: str | None = None) -> Session:
        return Session(
            csrf=secrets.token_urlsafe(32),
            operator=operator,
            key_id=key_id,
            expires=time.time() + SESSION_SECONDS,
            new=True,
        )

    def login(self, session: Session, key: str, operator: str) -> Session | None:
        """A logged-in session for a valid key, with a fresh CSRF token; ``None`` when the
        key is not one of the configured keys."""
        key_id = self.match_key(key)
        if key_id is None:
            return None
        return self.new_session(clean_operator(operator) or f"key-{key_id}", key_id)

    def dump(self, session: Session) -> str:
        payload = json.dumps(
            {
                "c": session.csrf,
                "o": session.operator,
                "k": session.key_id,
                "e": int(session.expires),
            },
            separators=(",", ":"),
        ).encode()
        body = base64.urlsafe_b64encode(payload).rstrip(b"=")
        sig = base64.urlsafe_b64encode(hmac.new(self._secret, body, hashlib.sha256).digest())
        return (body + b"." + sig.rstrip(b"=")).decode()

    def load(self, cookie: str | None) -> Session:
        """The session a cookie carries, or a new anonymous one when it is missing, forged,
        expired, or names a key that is no longer configured."""
        session = self._verify(cookie) if cookie else None
        return session if session is not None else self.new_session()

    def _verify(self, cookie: str) -> Session | None:
        body, _, sig = cookie.encode().partition(b".")
        expected = base64.urlsafe_b64encode(
            hmac.new(self._secret, body, hashlib.sha256).digest()
        ).rstrip(b"=")
        if not hmac.compare_digest(sig, expected):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)))
            session = Session(
                csrf=str(data["c"]),
                operator=data.get("o"),
                key_id=data.get("k"),
                expires=float(data["e"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        if session.expires < time.time():
            return None
        if session.operator is not None and self.required and session.key_id not in self._ids:
            return None  # its key was removed from the environment
        return session

    def authenticated(self, session: Session) -> bool:
        """Whether ``session`` may see pages (always, when no key is configured)."""
        return not self.required or (session.operator is not None and session.key_id in self._ids)

    def actor(self, session: Session) -> str | None:
        """Who an action of ``session`` is recorded as, or ``None`` if it may not act."""
        if self.required:
            return session.actor if self.authenticated(session) else None
        if self.local_operator is None:
            return None
        return f"{self.local_operator} [dashboard, local]"

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        """Constant-time comparison of the posted token with the session's."""
        return bool(token) and hmac.compare_digest(str(token).encode(), session.csrf.encode())
