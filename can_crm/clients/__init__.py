"""Outside services (GOV.UK Notify, peer authorities, automated calls), each with a fake behind the same interface."""
