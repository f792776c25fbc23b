"""SMS notifications: policy, texts and transport adapters."""
