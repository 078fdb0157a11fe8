"""Bearer-key authentication: a key names a tenant; admin keys open the admin routes."""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass

from fastapi import Request

from adapter.errors import APIError
from gateway.settings import AuthSettings

__all__ = ["Authenticator", "OpenAccessError", "Principal"]

OPEN_TENANT = "default"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: their tenant, and whether the key is an admin key."""

    tenant: str
    admin: bool = False
    reviewer: bool = False
    key_id: str = "anonymous"  # a short, non-secret handle for logs and rate limits


class OpenAccessError(ValueError):
    """A gateway without keys asked to listen beyond loopback without ``auth.allow_open``."""


class Authenticator:
    def __init__(self, settings: AuthSettings, host: str = "127.0.0.1") -> None:
        self._keys = dict(settings.keys)
        self._admin = list(settings.admin_keys)
        self._reviewers = list(settings.reviewer_keys)
        self.open = settings.open
        if self.open and not settings.allow_open and not _loopback(host):
            raise OpenAccessError(
                f"no API keys are configured (auth.keys, auth.admin_keys) and the gateway "
                f"would listen on {host!r}, beyond this machine: set keys, listen on "
                f"127.0.0.1, or set auth.allow_open: true to serve anyone who reaches it")

    def authenticate(self, request: Request) -> Principal:
        if self.open:
            return Principal(tenant=OPEN_TENANT, admin=True)
        key = _bearer(request)
        reviewer = any(_same(key, k) for k in self._reviewers)
        for admin_key in self._admin:
            if _same(key, admin_key):
                return Principal(tenant=self._keys.get(admin_key, OPEN_TENANT), admin=True,
                                 reviewer=reviewer, key_id=_key_id(admin_key))
        for known, tenant in self._keys.items():
            if _same(key, known):
                return Principal(tenant=tenant, reviewer=reviewer, key_id=_key_id(known))
        raise APIError("Incorrect API key provided.", status=401, code="invalid_api_key")

    def require_admin(self, request: Request) -> Principal:
        principal = self.authenticate(request)
        if not principal.admin:
            raise APIError("This route needs an admin key.", status=403, code="admin_required")
        return principal


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False


def _same(key: bytes, known: str) -> bool:
    return hmac.compare_digest(key, known.encode())


def _bearer(request: Request) -> bytes:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise APIError("Missing API key: send 'Authorization: Bearer KEY'.", status=401,
                       code="missing_api_key")
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a TypeError).
    return key.strip().encode("latin-1")  # the header's own bytes (Starlette decodes latin-1)


def _key_id(key: str) -> str:
    return f"{key[:3]}…{key[-4:]}" if len(key) > 10 else "key"
