"""The verdicts of ``bench/targets.py``: each target's threshold, in its unit, from wrk's counts (no I/O)."""

from __future__ import annotations

from bench.targets import DatabaseRun, Measure, ServerRun, rows, to_measure
from bench.wrkrun import parse_wrk

# What `wrk --latency -s bench/wrk/paths.lua` prints (a 1-connection feed run where 10 answers were 200).
FEED_RUN = """Running 8s test @ http://127.0.0.1:5000/feeds/x.ics
  1 threads and 1 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20ms  300.00us   9.00ms   90.00%
    Req/Sec   800.00     50.00     0.90k    70.00%
  Latency Distribution
     50%    1.10ms
     75%    1.30ms
     90%    1.50ms
     99%    2.50ms
  6400 requests in 8.00s, 1.00MB read
Requests/sec:    800.00
Transfer/sec:    128.00KB
BENCH_STATUS 200=10 304=6390 other=0
"""


def measure(name: str, per_second: float, *, p50: float = 1.0, p99: float = 2.0, expected: str = "200",
            connections: int = 64) -> Measure:
    """A 10-second run whose every answer had the expected status."""
    count = round(per_second * 10)
    return Measure(name, connections, count, 10.0, per_second, p50, p99, {expected: count}, expected)


def verdicts(result: DatabaseRun) -> dict[str, str]:
    return {row.target: row.verdict for row in rows(result)}


def test_a_wrk_run_counts_only_answers_with_the_expected_status() -> None:
    feed = to_measure("feed 304", parse_wrk(FEED_RUN), 1, "304", 0.5)

    assert feed.statuses == {"200": 10, "304": 6390}  # the zero count is left out
    assert feed.unexpected == 10
    assert feed.good_rps == 6390 / 8
    assert (feed.p50_ms, feed.p99_ms) == (1.1, 2.5)


def test_each_target_is_met_at_its_bound_and_missed_just_past_it() -> None:
    two = ServerRun(2, {
        "ceiling": measure("ceiling", 10_000),
        "slots": measure("slots", 1_500, p99=50.0),  # exactly 0.15 × the ceiling, p99 at the bound
        "booking": measure("booking", 499, p99=200.5, expected="201"),  # 0.0499 × the ceiling
        "ceiling_1": measure("ceiling, 1 connection", 2_000, p50=0.5, connections=1),
        "feed_304": measure("feed", 600, p50=2.0, p99=3.0, expected="304", connections=1),
    }, {"supervisor 1": 90_000, "worker 2": 195_312, "worker 3": 180_000})  # 199.99 MB at most
    one = ServerRun(1, {"ceiling": measure("ceiling", 8_000), "slots": measure("slots", 1_000),
                        "booking": measure("booking", 400, expected="201")}, {"worker 4": 195_400})

    found = verdicts(DatabaseRun("sqlite", {}, [two]))
    assert found == {
        "uncached slots, 1 staff, 1 day: ≥ 0.15 × ceiling": "**met**",
        "uncached slots p99 ≤ 50 ms": "**met**",
        "booking distinct slots: ≥ 0.05 × ceiling": "**missed**",
        "booking p99 ≤ 200 ms": "**missed**",
        "feed 304 ≤ 2 ms (1 connection)": "**met** at p50; p99 over",
        "peak RSS per server process ≤ 200 MB": "**met**",
    }
    both = DatabaseRun("sqlite", {}, [two, one])
    # 195,400 KiB is 200.09 MB: 200 MB is 200 × 10⁶ bytes, not 200 MiB.
    assert verdicts(both)["peak RSS per server process ≤ 200 MB"] == "**missed**"
    scaling = {row.target: row.ratio for row in rows(both) if row.verdict == "no target"}
    assert scaling == {"scaling: `/health/live` (the ceiling), 1 → 2 processes": "× 1.25",
                       "scaling: uncached slots, 1 → 2 processes": "× 1.50",
                       "scaling: booking, 1 → 2 processes": "× 1.25"}


def test_a_feed_answer_other_than_304_is_a_miss_however_fast() -> None:
    feed = to_measure("feed 304", parse_wrk(FEED_RUN), 1, "304", 0.5)
    two = ServerRun(2, {"ceiling": measure("ceiling", 10_000), "slots": measure("slots", 2_000),
                        "booking": measure("booking", 600, expected="201"),
                        "ceiling_1": measure("ceiling, 1 connection", 2_000, connections=1),
                        "feed_304": feed})

    assert verdicts(DatabaseRun("postgresql", {}, [two]))["feed 304 ≤ 2 ms (1 connection)"] == (
        "**missed**: 10 answers were not 304")
