"""The resident's "did help arrive?" page at /f/<token>: no account, no JavaScript, one request only."""
