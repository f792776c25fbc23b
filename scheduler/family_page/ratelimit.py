"""Fixed-window counters for the family page: requests per client address, failures per link,
and wrong tokens in all.

In memory and per process: a guess at a token costs a request, and 71-bit tokens at a capped
number of wrong guesses a minute are out of reach whatever the number of processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WINDOW_SECONDS = 60.0
# Above this many keys, finished windows are dropped (bounded memory under a flood of guesses).
PRUNE_ABOVE = 10_000


@dataclass
class WindowCounter:
    """At most ``limit`` hits per key in each window of ``window`` seconds."""

    limit: int
    window: float = WINDOW_SECONDS
    _hits: dict[str, tuple[float, int]] = field(default_factory=dict)

    def allow(self, key: str, now: float) -> bool:
        """Count a hit for ``key`` at ``now`` (monotonic seconds); False once over the limit."""
        started, count = self._hits.get(key, (now, 0))
        if now - started >= self.window:
            started, count = now, 0
        self._hits[key] = (started, count + 1)
        if len(self._hits) > PRUNE_ABOVE:
            self._prune(now)
        return count < self.limit

    def spent(self, key: str, now: float) -> bool:
        """Whether ``key`` has used up this window's hits, without counting one."""
        started, count = self._hits.get(key, (now, 0))
        return now - started < self.window and count >= self.limit

    def retry_after(self, key: str, now: float) -> int:
        """Whole seconds until ``key``'s window ends."""
        started, _ = self._hits.get(key, (now, 0))
        return max(1, int(started + self.window - now + 0.999))

    def _prune(self, now: float) -> None:
        self._hits = {key: value for key, value in self._hits.items() if now - value[0] < self.window}
