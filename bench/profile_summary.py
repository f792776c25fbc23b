"""Summarise py-spy collapsed stacks (``--format raw``): where the samples go, inclusive and self.

Usage: ``.venv/bin/python bench/profile_summary.py bench/results/profile-sqlite-slots.txt [top]``
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")
IDLE = ("select (selectors.py", "run_once (uvloop", "_run_once (asyncio", "wait (threading.py", "epoll")


def frame_key(frame: str) -> str:
    """``function (short/path.py)`` without the line number, the path cut after site-packages."""
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match.group("file").split("site-packages/")[-1].split("/work/main/")[-1]
    return f"{match.group('func')} ({path})"


def load(path: Path) -> list[tuple[list[str], int]]:
    """Each stack (root first) with its sample count."""
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append(([frame_key(f) for f in stack.split(";")], int(count)))
    return stacks


MAIN_THREAD = "_run_module_as_main"


def summarize(path: Path, top: int = 25, focus: str = MAIN_THREAD) -> str:
    """Inclusive and self shares of the busiest functions, among stacks through ``focus``.

    By default only the server's main thread (the event loop) counts: py-spy also samples
    driver and pool threads blocked in C calls (aiosqlite's queue), which are waiting, not working.
    """
    every = load(path)
    stacks = [(frames, count) for frames, count in every if any(focus in frame for frame in frames)]
    total = sum(count for _, count in stacks) or 1
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, count in stacks:
        for name in set(frames):
            inclusive[name] += count
        own[frames[-1]] += count
    idle = sum(count for frames, count in stacks if any(marker in frames[-1] for marker in IDLE))
    everything = sum(count for _, count in every)
    heading = (
        f"{path}: {total} samples through {focus!r} (of {everything}), {100 * idle / total:.0f}% of them idle"
    )
    lines = [heading, "", "inclusive:"]
    busiest = [(name, n) for name, n in inclusive.most_common() if n < total][:top]  # drop the common root
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in busiest]
    lines += ["", "self:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(summarize(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 25,
                    sys.argv[3] if len(sys.argv) > 3 else MAIN_THREAD))
