"""Operator authentication for the dashboard: API keys, signed session cookies, CSRF tokens.

* The keys are read by the one loader serving uses (:mod:`hookline.adapters.web.keys`):
  prediction keys (``$HOOKLINE_API_KEYS`` or ``$HOOKLINE_API_KEYS_SECRET``; the name follows
  ``[serving] api_keys_env``) may log in and look; administration keys
  (``$HOOKLINE_ADMIN_KEYS`` or ``$HOOKLINE_ADMIN_KEYS_SECRET``) may also approve, promote
  and roll back. A key is compared in constant time against every configured key.
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

from hookline.adapters.web.keys import (
    PREDICTION_KEYS_ENV,
    ApiKeys,
    admin_keys_from_env,
    fingerprint,
    keys_from_env,
)

__all__ = ["ADMIN", "COOKIE", "VIEWER", "Auth", "Session", "fingerprint", "load_keys"]

COOKIE = "hookline_session"
SECRET_ENV = "HOOKLINE_UI_SECRET"
SESSION_SECONDS = 12 * 3600
ADMIN, VIEWER = "admin", "viewer"
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._@-+")


def load_keys(
    env_name: str = PREDICTION_KEYS_ENV, environ: Mapping[str, str] | None = None
) -> ApiKeys:
    """The prediction keys, read as serving reads them (a variable or a secret reference)."""
    return keys_from_env(env_name, environ)


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
    role: str | None = None

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

    :param keys: prediction keys (may look), as :class:`ApiKeys` or a list; empty: none.
    :param admin_keys: administration keys (may also move aliases).
    :param secret: the cookie signing secret (see the module docstring for the default).
    :param local_operator: when no key at all is configured, the operator recorded for
        actions (the dashboard then runs for one person on a loopback address); ``None``
        disables actions until keys are configured.
    """

    def __init__(
        self,
        keys: ApiKeys | Sequence[str] = (),
        *,
        admin_keys: ApiKeys | Sequence[str] = (),
        secret: bytes | None = None,
        local_operator: str | None = None,
    ) -> None:
        self.keys = keys if isinstance(keys, ApiKeys) else ApiKeys(tuple(keys))
        self.admin_keys = (
            admin_keys if isinstance(admin_keys, ApiKeys) else ApiKeys(tuple(admin_keys))
        )
        env_secret = os.environ.get(SECRET_ENV)
        self._given_secret = secret or (env_secret.encode() if env_secret else None)
        self._derived: bytes | None = None
        self._random = secrets.token_bytes(32)
        self.local_operator = local_operator

    @classmethod
    def from_env(
        cls,
        env_name: str = PREDICTION_KEYS_ENV,
        environ: Mapping[str, str] | None = None,
        *,
        local_operator: str | None = None,
    ) -> Auth:
        """Prediction and administration keys from the environment (variables or secrets)."""
        return cls(
            keys_from_env(env_name, environ),
            admin_keys=admin_keys_from_env(environ),
            local_operator=local_operator,
        )

    @property
    def required(self) -> bool:
        """Whether a key is configured, so every page needs a logged-in session."""
        return self.keys.enabled or self.admin_keys.enabled

    @property
    def actions_enabled(self) -> bool:
        """Whether anyone may act: an administration key exists, or local use."""
        return self.admin_keys.enabled or (not self.required and self.local_operator is not None)

    def _roles(self) -> dict[str, str]:
        """Fingerprint to role of every configured key (resolving secrets once).

        :raises KeysUnavailable: a secret cannot be read (fail closed).
        """
        roles = {fingerprint(k): VIEWER for k in self.keys.resolved()}
        roles.update({fingerprint(k): ADMIN for k in self.admin_keys.resolved()})
        return roles

    @property
    def _secret(self) -> bytes:
        if self._given_secret is not None:
            return self._given_secret
        if not self.required:
            return self._random
        if self._derived is None:
            everything = sorted([*self.keys.resolved(), *self.admin_keys.resolved()])
            self._derived = hmac.new(
                b"hookline-dashboard-session", b"\n".join(everything), hashlib.sha256
            ).digest()
        return self._derived

    # -- keys -----------------------------------------------------------------------------

    def match_key(self, candidate: str) -> tuple[str, str] | None:
        """``(fingerprint, role)`` of the configured key equal to ``candidate``, else
        ``None``. Every key is compared, in constant time, whatever matches."""
        admin = self.admin_keys.match(candidate) if self.admin_keys.enabled else None
        viewer = self.keys.match(candidate) if self.keys.enabled else None
        if admin is not None:
            return admin, ADMIN
        return (viewer, VIEWER) if viewer is not None else None

    # -- sessions -------------------------------------------------------------------------

    def new_session(
        self, operator: str | None = None, key_id: str | None = None, role: str | None = None
    ) -> Session:
        return Session(
            csrf=secrets.token_urlsafe(32),
            operator=operator,
            key_id=key_id,
            expires=time.time() + SESSION_SECONDS,
            new=True,
            role=role,
        )

    def login(self, session: Session, key: str, operator: str) -> Session | None:
        """A logged-in session for a valid key, with a fresh CSRF token; ``None`` when the
        key is not one of the configured keys."""
        found = self.match_key(key[:1024])
        if found is None:
            return None
        key_id, role = found
        return self.new_session(clean_operator(operator) or f"key-{key_id}", key_id, role)

    def dump(self, session: Session) -> str:
        payload = json.dumps(
            {
                "c": session.csrf,
                "o": session.operator,
                "k": session.key_id,
                "r": session.role,
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
                role=data.get("r"),
            )
        except (ValueError, KeyError, TypeError):
            return None
        if session.expires < time.time():
            return None
        if session.operator is not None and self.required:
            role = self._roles().get(session.key_id or "")
            if role is None or role != session.role:
                return None  # its key was removed from the environment, or changed role
        return session

    def authenticated(self, session: Session) -> bool:
        """Whether ``session`` may see pages (always, when no key is configured)."""
        if not self.required:
            return True
        return session.operator is not None and session.key_id in self._roles()

    def actor(self, session: Session) -> str | None:
        """Who an action of ``session`` is recorded as, or ``None`` if it may not act: only
        a session opened with an administration key acts when keys are configured."""
        if self.required:
            if not self.authenticated(session):
                return None
            return session.actor if self._roles().get(session.key_id or "") == ADMIN else None
        if self.local_operator is None:
            return None
        return f"{self.local_operator} [dashboard, local]"

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        """Constant-time comparison of the posted token with the session's."""
        return bool(token) and hmac.compare_digest(str(token).encode(), session.csrf.encode())
