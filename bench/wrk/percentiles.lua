-- Adds the latency percentiles wrk --latency does not print (p95 in particular).
-- Usage: wrk ... -s bench/wrk/percentiles.lua URL
-- Prints one line: BENCH_LATENCY_US p50=... p90=... p95=... p99=... max=... (microseconds,
-- over the requests that completed; timed-out requests are not in wrk's histogram).

function done(summary, latency, requests)
  io.write(string.format("BENCH_LATENCY_US p50=%d p90=%d p95=%d p99=%d max=%d\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max))
end
