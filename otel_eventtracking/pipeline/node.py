"""The two internal interfaces of the tree: a :class:`Node` (what a parent hands events to) and a
:class:`Sink` (a child of a routing node, whatever the backend it stands for)."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence

from ..core.event import Event


class Sink(abc.ABC):
    """A child of a routing node: a backend adapted, once, to one interface (see :mod:`.adapters`)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def node(self) -> Node | None:
        """The nested node this child is, if it is one (for walking the tree)."""
        return None

    def deliver_one(self, event: Event) -> bool:
        """One event (the caller thread's path); True when it was delivered or queued."""
        return self.deliver((event,))

    @abc.abstractmethod
    def deliver(self, events: Sequence[Event]) -> bool:
        """A batch (a worker's path); True when every event was delivered."""

    def force_flush(self, timeout: float | None = None) -> bool:
        return True

    def shutdown(self, timeout: float | None = None) -> bool:
        return True

    @abc.abstractmethod
    def stats(self) -> dict[str, int]: ...


class Node(abc.ABC):
    """A routing or batching node: the public faces (``RoutingBackend``, ``BatchingRoutingBackend``)."""

    @abc.abstractmethod
    def accept(self, event: Event) -> bool:
        """Take one event: route it now, or queue it. True when nothing was lost on the way."""

    def accept_batch(self, events: Sequence[Event]) -> bool:
        ok = True
        for event in events:
            ok = self.accept(event) and ok
        return ok

    @abc.abstractmethod
    def children(self) -> Sequence[Sink]:
        """The node's backends, adapted, in delivery order."""

    @abc.abstractmethod
    def force_flush(self, timeout: float | None = None) -> bool:
        """Deliver everything taken so far; False if anything was lost or the timeout passed."""

    @abc.abstractmethod
    def shutdown(self, timeout: float | None = None) -> bool:
        """Deliver what is pending, then stop the workers and exporters below."""

    @abc.abstractmethod
    def node_stats(self) -> dict[str, int]:
        """This node's own counters."""

    def walk(self, path: str = "root") -> Iterator[tuple[str, Node | Sink]]:
        """(path, node or sink) for this node and everything below it, parents first."""
        yield path, self
        for child in self.children():
            child_path = f"{path}/{child.name}"
            nested = child.node
            if nested is not None:
                yield from nested.walk(child_path)
            else:
                yield child_path, child

    def stats(self) -> dict[str, dict[str, int]]:
        """Counters of this node and every node and backend below, keyed by path
        (``root``, ``root/tracking_logs``, ``root/tracking_logs/logger``)."""
        return {path: n.node_stats() if isinstance(n, Node) else n.stats() for path, n in self.walk()}
