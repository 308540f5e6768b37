"""Operations: backup and restore, personal-data key rotation."""
