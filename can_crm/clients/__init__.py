"""Outside services (GOV.UK Notify, automated calls), each with a fake behind the same interface."""
