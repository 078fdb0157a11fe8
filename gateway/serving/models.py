"""Public model names: aliases from config, each mapped to an upstream model or adapter."""

from __future__ import annotations

import time

from adapter.errors import APIError
from adapter.protocol import ModelCard, ModelList
from gateway.settings import ModelAlias
from gateway.upstream import UpstreamClient

__all__ = ["ModelRouter"]

_PASSTHROUGH_TTL_S = 5.0


class ModelRouter:
    """Resolves a client's ``model`` to the upstream name, or answers 404.

    With no aliases configured the gateway serves the upstream's own model names; those are
    read from the upstream's ``/v1/models`` and cached for a few seconds.
    """

    def __init__(self, aliases: dict[str, ModelAlias], upstream: UpstreamClient) -> None:
        self._aliases = dict(aliases)
        self._upstream = upstream
        self._seen: set[str] = set()
        self._seen_at = float("-inf")

    async def resolve(self, name: str) -> str:
        if self._aliases:
            alias = self._aliases.get(name)
            if alias is None:
                raise _not_found(name)
            return alias.upstream
        if name not in await self._upstream_names():
            raise _not_found(name)
        return name

    async def list_models(self) -> ModelList:
        if self._aliases:
            return ModelList(data=[ModelCard(id=name, root=alias.upstream)
                                   for name, alias in self._aliases.items()])
        return ModelList(data=[ModelCard(id=name, root=name)
                               for name in sorted(await self._upstream_names(force=True))])

    async def _upstream_names(self, force: bool = False) -> set[str]:
        if force or time.monotonic() - self._seen_at > _PASSTHROUGH_TTL_S:
            listing = ModelList.model_validate(await self._upstream.get_json("/v1/models"))
            self._seen = {card.id for card in listing.data}
            self._seen_at = time.monotonic()
        return self._seen


def _not_found(name: str) -> APIError:
    return APIError(f"The model `{name}` does not exist or you do not have access to it.",
                    status=404, code="model_not_found", param="model")
