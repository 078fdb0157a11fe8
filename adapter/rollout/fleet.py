"""The serving replicas: which are up, which models each reports loaded, and how many
requests each is answering per model (so an adapter is unloaded only once drained).

The controller's thread refreshes the views; request handlers read them and count their
leases. Views are immutable and swapped whole, so a reader never sees half an update.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from adapter.engine_control import EngineControl, EngineError

__all__ = ["Fleet", "ReplicaView", "expand_dns"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReplicaView:
    url: str
    up: bool = False
    models: frozenset[str] = frozenset()
    checked: bool = False  # False until the first answer (or failure) was seen
    error: str = ""


def expand_dns(url: str) -> list[str]:
    """Every address a host name resolves to, as a URL each: a Kubernetes headless Service
    answers with one A record per ready pod, and each pod is a replica."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
        return [url]  # already an address
    except ValueError:
        pass
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        log.warning("replica discovery failed", extra={"host": host, "error": str(exc)})
        return []
    urls = []
    for info in infos:
        address = str(info[4][0])
        netloc = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        urls.append(urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/"))
    return sorted(set(urls))


class Fleet:
    def __init__(self, urls: list[str], *, discover_dns: bool = False,
                 timeout_s: float = 10.0, api_key: str | None = None) -> None:
        if not urls:
            raise ValueError("a fleet needs at least one replica URL")
        self._configured = [u.rstrip("/") for u in urls]
        self._discover = discover_dns
        self._timeout_s = timeout_s
        self._api_key = api_key
        self._controls: dict[str, EngineControl] = {}
        self.views: dict[str, ReplicaView] = {u: ReplicaView(u) for u in self._configured}
        self._leases: Counter[tuple[str, str]] = Counter()
        self._turn = 0  # rotates ties, so idle replicas share the load
        self._lock = threading.Lock()

    # --------------------------------------------------------- refreshed by the controller

    def urls(self) -> list[str]:
        if not self._discover:
            return list(self._configured)
        return sorted({u for c in self._configured for u in expand_dns(c)})

    def control(self, url: str) -> EngineControl:
        if url not in self._controls:
            self._controls[url] = EngineControl(url, timeout_s=self._timeout_s,
                                                api_key=self._api_key)
        return self._controls[url]

    def refresh(self) -> dict[str, ReplicaView]:
        """Ask every replica what it serves; a replica that does not answer is down."""
        views = {}
        for url in self.urls():
            try:
                views[url] = ReplicaView(url, True, frozenset(self.control(url).models()), True)
            except EngineError as exc:
                views[url] = ReplicaView(url, False, frozenset(), True, str(exc))
                if self.views.get(url, ReplicaView(url)).up:
                    log.warning("replica down", extra={"replica": url, "error": str(exc)})
        for gone in set(self._controls) - set(views):
            self._controls.pop(gone).close()
        self.views = views
        return views

    def note_loaded(self, url: str, model: str, loaded: bool) -> None:
        """Record a load or unload the controller just made, without waiting for the next
        refresh (so routing follows at once)."""
        view = self.views.get(url)
        if view is None:
            return
        models = view.models | {model} if loaded else view.models - {model}
        self.views = {**self.views, url: ReplicaView(url, view.up, models, True)}

    def mark_down(self, url: str, error: str) -> None:
        """A request could not connect: stop routing there until a refresh says otherwise."""
        view = self.views.get(url)
        if view is not None and (view.up or not view.checked):  # unchecked: at start too
            log.warning("replica unreachable; routing around it",
                        extra={"replica": url, "error": error})
            self.views = {**self.views, url: ReplicaView(url, False, view.models, True, error)}

    # --------------------------------------------------------- read by request handlers

    def up(self) -> list[ReplicaView]:
        return [v for v in self.views.values() if v.up]

    def serving(self, model: str) -> list[str]:
        """Replicas up and reporting ``model`` loaded."""
        return [v.url for v in self.views.values() if v.up and model in v.models]

    def candidates(self, model: str) -> list[str]:
        """Where a request for ``model`` may go, least busy first: replicas reporting it;
        else replicas not yet checked (at start, before the first refresh); else every
        replica (the engine's own 404 then tells the client the model does not exist)."""
        urls = (self.serving(model)
                or [v.url for v in self.views.values() if not v.checked]
                or [v.url for v in self.views.values() if v.up]
                or list(self.views))
        with self._lock:
            self._turn += 1
            start = self._turn % len(urls)
            rotated = urls[start:] + urls[:start]
            return sorted(rotated, key=lambda u: self._leases[(u, model)])

    def acquire(self, url: str, model: str) -> None:
        with self._lock:
            self._leases[(url, model)] += 1

    def release(self, url: str, model: str) -> None:
        with self._lock:
            self._leases[(url, model)] -= 1
            if self._leases[(url, model)] <= 0:
                del self._leases[(url, model)]

    def in_flight(self, model: str, url: str | None = None) -> int:
        with self._lock:
            return sum(n for (u, m), n in self._leases.items()
                       if m == model and (url is None or u == url))

    def close(self) -> None:
        for control in self._controls.values():
            control.close()
        self._controls.clear()
