"""Authentication, roles and scoping, personal-data protection and the tamper-evident audit log."""
