"""Handoff between authorities (signed bundles, inbox, files, data-sharing log), Open311, and open data."""
