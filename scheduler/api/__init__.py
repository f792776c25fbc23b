"""HTTP API: one controller module per resource, schemas, and problem+json errors."""
