"""Test helpers: the real services the integration tests and try-it script run against."""
