"""Outreach to the shielded list: importing the council's CSV, campaigns, and the funnel."""
