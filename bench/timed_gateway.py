"""`vigil gateway` with the rollout's engine calls timed, for bench/rollout.py.

The controller logs when an adapter finished loading and when its state changed, but not when
it started acting on a new adapter or how long the probe took. This launcher wraps
:class:`adapter.engine_control.EngineControl`'s load, unload and chat (the probe: client
traffic goes through the gateway's aiohttp relay, not through it) so each call logs a line
when it starts and when it ends, then runs the ordinary ``vigil gateway`` command. The real
methods run unchanged; only the log lines are added.

    python -m bench.timed_gateway gateway --config FILE --port N
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from adapter.engine_control import EngineControl
from gateway.cli import main

__all__ = ["CALL_LOG", "instrument"]

#: The ``msg`` of the added log lines; fields ``call``, ``phase`` (start|end|error),
#: ``adapter``, ``replica``.
CALL_LOG = "engine call"

log = logging.getLogger("bench.timed_gateway")


def _timed(call: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: EngineControl, name: str, *args: Any, **kwargs: Any) -> Any:
        fields = {"call": call, "adapter": name, "replica": self.base_url}
        log.info(CALL_LOG, extra={**fields, "phase": "start"})
        try:
            result = method(self, name, *args, **kwargs)
        except BaseException:
            log.info(CALL_LOG, extra={**fields, "phase": "error"})
            raise
        log.info(CALL_LOG, extra={**fields, "phase": "end"})
        return result

    return wrapper


def instrument() -> None:
    """Wrap the engine calls the rollout controller makes (idempotent)."""
    for call, attribute in (("load", "load_adapter"), ("unload", "unload_adapter"),
                            ("probe", "chat")):
        method = getattr(EngineControl, attribute)
        if not hasattr(method, "__wrapped__"):
            setattr(EngineControl, attribute, _timed(call, method))


if __name__ == "__main__":
    instrument()
    main()
