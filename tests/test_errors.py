"""Routing errors keep OpenAI's shape on both servers (the gateway and the engine share the
handlers): an unknown route is a 404, a wrong method a 405, never a 500."""

from __future__ import annotations

import httpx
import pytest

from gateway.app import build_app
from tests.canned import build_canned_upstream
from tests.conftest import gateway_settings
from tests.servers import ThreadedServer


@pytest.mark.integration  # starts servers
def test_unknown_route_and_wrong_method_are_openai_errors() -> None:
    with ThreadedServer(build_canned_upstream()) as upstream, ThreadedServer(build_app(
            gateway_settings(upstream={"url": upstream.url}))) as gateway:
        missing = httpx.post(f"{gateway.url}/chat/completions", json={})
        assert missing.status_code == 404
        assert missing.json()["error"]["message"] == "Not Found"
        wrong = httpx.get(f"{gateway.url}/v1/chat/completions")
        assert wrong.status_code == 405 and set(wrong.json()["error"]) == {
            "message", "type", "param", "code"}
