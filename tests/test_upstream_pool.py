"""The upstream pool against real replicas on loopback: a request goes where its model is
served, around a replica that cannot be reached, and holds a lease until its answer (or
stream) is done; with no replica reachable the client gets OpenAI's 502."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from adapter.errors import APIError
from adapter.rollout.fleet import Fleet
from gateway.metrics import GatewayMetrics
from gateway.settings import UpstreamSettings
from gateway.upstream import UpstreamPool
from tests.canned import build_canned_upstream
from tests.servers import ThreadedServer, free_port, starts

BODY = {"model": "canned", "messages": [{"role": "user", "content": "hi"}]}


@starts(scope="module")
def replicas() -> Iterator[list[str]]:
    with ThreadedServer(build_canned_upstream("canned")) as a, \
            ThreadedServer(build_canned_upstream("other")) as b:
        yield [a.url, b.url]


def _pool(urls: list[str]) -> tuple[UpstreamPool, Fleet]:
    fleet = Fleet(urls, timeout_s=2.0)
    return UpstreamPool(UpstreamSettings(url=urls[0], connect_timeout_s=1.0), fleet,
                        GatewayMetrics()), fleet


def test_requests_go_to_the_replica_serving_their_model(replicas: list[str]) -> None:
    async def run() -> None:
        pool, fleet = _pool(replicas)
        fleet.refresh()
        try:
            for model in ("canned", "other"):
                raw = await pool.post_json("/v1/chat/completions", {**BODY, "model": model})
                assert json.loads(raw)["model"] == model  # each canned replica names itself
                assert fleet.in_flight(model) == 0  # the lease ended with the answer
        finally:
            await pool.aclose()
    asyncio.run(run())


def test_an_unreachable_replica_is_routed_around_and_marked_down(
        replicas: list[str]) -> None:
    dead = f"http://127.0.0.1:{free_port()}"

    async def run() -> None:
        pool, fleet = _pool([dead, replicas[0]])  # not refreshed: both unchecked, both tried
        try:
            for _ in range(4):
                assert json.loads(await pool.post_json("/v1/chat/completions", BODY))
            assert not fleet.views[dead].up and fleet.views[dead].checked
        finally:
            await pool.aclose()
    asyncio.run(run())


def test_a_stream_holds_its_lease_until_closed(replicas: list[str]) -> None:
    async def run() -> None:
        pool, fleet = _pool(replicas[:1])
        fleet.refresh()
        try:
            stream = await pool.open_stream("/v1/chat/completions", {**BODY, "stream": True})
            assert fleet.in_flight("canned") == 1
            chunks = [c async for c in stream.events()]
            assert chunks and stream.done
            await stream.aclose()
            assert fleet.in_flight("canned") == 0
        finally:
            await pool.aclose()
    asyncio.run(run())


def test_no_reachable_replica_is_a_502() -> None:
    async def run() -> None:
        pool, _ = _pool([f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"])
        try:
            with pytest.raises(APIError) as failed:
                await pool.post_json("/v1/chat/completions", BODY)
            assert failed.value.status == 502
        finally:
            await pool.aclose()
    asyncio.run(run())
