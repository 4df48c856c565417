"""The anonymised open-data export at /open-data."""
