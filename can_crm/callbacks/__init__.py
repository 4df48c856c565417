"""GOV.UK Notify's callbacks: delivery receipts and inbound text messages (JSON, bearer token)."""
