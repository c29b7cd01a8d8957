"""Security tests of issue #11: the authorization matrix and what it needs."""
