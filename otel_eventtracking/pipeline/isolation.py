"""Finding the poison in a batch that keeps failing, without dead-lettering good events.

A batch that failed many times is either stuck behind an outage (nothing gets through) or holds
events the backends reject (poison) while they accept others. :func:`isolate` tells the two
apart with a few single-event probes (the first, middle and last events of the batch and of the
events queued after it; the caller widens that window each inconclusive round): if none of them
gets through it stops, inconclusive (an outage, or a run of nothing but poison: tried again later).
Otherwise it bisects the batch: halves that are delivered are done, failing halves are split
until single events remain; each of those is tried once more alone and, if it fails again while
a probe just got through, it is a culprit.

Cost: an outage costs at most six extra calls per round; one culprit in a batch of n costs
about 2*log2(n) calls. Parts delivered during a round may be delivered again later (at-least-once).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..core.event import Event

Deliver = Callable[[Sequence[Event]], bool]


def _probes(events: Sequence[Event], after: Sequence[Event]) -> list[Event]:
    picks: list[Event] = []
    spread = (after[0], after[len(after) // 2], after[-1]) if after else ()
    for event in (events[0], events[-1], events[len(events) // 2], *spread):
        if all(event is not p for p in picks):
            picks.append(event)
    return picks


def isolate(
    events: Sequence[Event], deliver: Deliver, after: Sequence[Event], halted: Callable[[], bool]
) -> list[Event] | None:
    """The culprits of ``events`` (every other event has been delivered), or None when the round
    is inconclusive (nothing got through, or ``halted`` turned true): then nothing is settled."""
    good: Event | None = None
    for probe in _probes(events, after):
        if halted():
            return None
        if deliver((probe,)):
            good = probe
            break
    if good is None:
        return None
    suspects: list[Event] = []
    stack = [[e for e in events if e is not good]]
    while stack:
        part = stack.pop()
        if not part:
            continue
        if halted():
            return None
        if deliver(part):
            continue
        if len(part) == 1:
            suspects.append(part[0])
            continue
        mid = len(part) // 2
        stack.append(part[mid:])
        stack.append(part[:mid])
    culprits = []
    for suspect in suspects:
        if halted():
            return None
        if not deliver((suspect,)):
            culprits.append(suspect)
    if culprits and (halted() or not deliver((good,))):
        return None  # the backends went down during the round: these may be good after all
    return culprits
