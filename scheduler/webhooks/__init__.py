"""Webhooks: signing (Standard Webhooks), the addresses we may call, secrets at rest, delivery."""
