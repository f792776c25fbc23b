"""Operations: structured logs with a request id, Prometheus metrics and per-key rate limits."""
