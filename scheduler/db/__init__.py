"""Persistence: SQLModel tables, the engine, and queries per aggregate."""
