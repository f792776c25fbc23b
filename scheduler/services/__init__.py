"""Use cases: load, call the domain, write; one transaction each."""
