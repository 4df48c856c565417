"""Background job progress, for the user who started the job."""
