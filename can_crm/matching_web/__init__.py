"""Coordinator pages for matching runs and their proposals; the admin's matching settings."""
