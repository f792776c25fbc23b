"""The family's page behind the SMS link: see, confirm or cancel one appointment (server-rendered HTML)."""
