"""Transport adapters that hand an SMS to a provider (or to a log, or to memory)."""
