"""Outside services (peer authorities, ...), each with a fake behind the same interface."""
