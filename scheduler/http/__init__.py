"""HTTP hardening below and around the application: connection limits, security headers, JSON depth."""
