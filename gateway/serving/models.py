"""Public model names: aliases from config, each mapped to an upstream model or adapter, and
the rollout's alias, split between the active adapter and a canary."""

from __future__ import annotations

import time

from adapter.errors import APIError
from adapter.protocol import ModelCard, ModelList
from adapter.rollout.controller import RolloutController
from gateway.settings import ModelAlias
from gateway.upstream import UpstreamPool

__all__ = ["ModelRouter"]

_PASSTHROUGH_TTL_S = 5.0


class ModelRouter:
    """Resolves a client's ``model`` to the upstream name, or answers 404.

    With no aliases configured (and no rollout) the gateway serves the upstream's own model
    names; those are read from the upstream's ``/v1/models`` and cached for a few seconds.
    """

    def __init__(self, aliases: dict[str, ModelAlias], upstream: UpstreamPool,
                 rollout: RolloutController | None = None) -> None:
        self._aliases = dict(aliases)
        self._upstream = upstream
        self._rollout = rollout
        self._seen: set[str] = set()
        self._seen_at = float("-inf")

    async def resolve(self, name: str, conversation: str) -> str:
        """The upstream model for this request. The rollout's alias is sticky per
        conversation; a canary no replica has loaded (one restarting) is skipped."""
        if self._rollout is not None and name == self._rollout.settings.alias:
            split = self._rollout.split
            model = split.choose(conversation)
            if model != split.stable and not self._upstream.fleet.serving(model):
                return split.stable
            return model
        if self._aliases:
            alias = self._aliases.get(name)
            if alias is None:
                raise _not_found(name)
            return alias.upstream
        if self._rollout is None and name in await self._upstream_names():
            return name
        raise _not_found(name)

    async def list_models(self) -> ModelList:
        cards = []
        if self._rollout is not None:
            cards.append(ModelCard(id=self._rollout.settings.alias,
                                   root=self._rollout.split.stable))
        if self._aliases:
            cards += [ModelCard(id=name, root=alias.upstream)
                      for name, alias in self._aliases.items()]
        elif self._rollout is None:
            cards += [ModelCard(id=name, root=name)
                      for name in sorted(await self._upstream_names(force=True))]
        return ModelList(data=cards)

    async def _upstream_names(self, force: bool = False) -> set[str]:
        if force or time.monotonic() - self._seen_at > _PASSTHROUGH_TTL_S:
            listing = ModelList.model_validate(await self._upstream.get_json("/v1/models"))
            self._seen = {card.id for card in listing.data}
            self._seen_at = time.monotonic()
        return self._seen


def _not_found(name: str) -> APIError:
    return APIError(f"The model `{name}` does not exist or you do not have access to it.",
                    status=404, code="model_not_found", param="model")
