"""Job handlers: each takes a job row (ids only) and a progress callback; named in `can_crm.jobs.registry`."""
