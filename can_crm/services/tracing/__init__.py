"""Local Track and Trace. `interactions` is imported by the request lifecycle, so it imports no other module
of this package that reaches back into requests (isolation does: it returns tasks to triage)."""
