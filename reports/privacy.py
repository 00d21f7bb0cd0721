"""Reports hold no personal data: they are counts worked out when asked for,
and what a person downloaded is in the audit trail (privacy.AuditEvent)."""
