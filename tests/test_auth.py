"""Bearer-key authentication: tenants, admin and reviewer keys, the open gateway's rules."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from adapter.errors import APIError
from gateway.auth import Authenticator, OpenAccessError
from gateway.settings import AuthSettings

KEYS = {"sk-acme-0001": "acme", "sk-globex-01": "globex"}


def _request(authorization: str | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


def _auth(**settings: object) -> Authenticator:
    return Authenticator(AuthSettings(**{"keys": KEYS, **settings}))


def test_a_key_names_its_tenant_and_nothing_more() -> None:
    principal = _auth().authenticate(_request("Bearer sk-globex-01"))
    assert (principal.tenant, principal.admin, principal.reviewer) == ("globex", False, False)
    assert "sk-globex-01" not in principal.key_id  # a handle for logs, not the secret


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer sk-nope", "Basic sk-acme-0001",
                                    "Bearer sk-acme-000", "Bearer sk-acme-00011",
                                    "Bearer sk-\u00e4cme-0001"])
def test_anything_but_a_known_key_is_a_401(header: str | None) -> None:
    with pytest.raises(APIError) as refused:
        _auth().authenticate(_request(header))
    assert refused.value.status == 401


def test_admin_and_reviewer_keys() -> None:
    auth = _auth(admin_keys=["sk-admin-0001"], reviewer_keys=["sk-acme-0001", "sk-admin-0001"])
    admin = auth.require_admin(_request("Bearer sk-admin-0001"))
    assert admin.admin and admin.reviewer
    reviewer = auth.authenticate(_request("Bearer sk-acme-0001"))
    assert reviewer.reviewer and not reviewer.admin and reviewer.tenant == "acme"
    with pytest.raises(APIError) as forbidden:
        auth.require_admin(_request("Bearer sk-acme-0001"))
    assert forbidden.value.status == 403


def test_without_keys_only_loopback_is_open_unless_allowed() -> None:
    open_settings = AuthSettings()
    assert Authenticator(open_settings, "127.0.0.1").authenticate(_request(None)).admin
    assert Authenticator(open_settings, "::1").open
    with pytest.raises(OpenAccessError, match=r"0\.0\.0\.0"):
        Authenticator(open_settings, "0.0.0.0")
    assert Authenticator(AuthSettings(allow_open=True), "0.0.0.0").open
