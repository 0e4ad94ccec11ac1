"""Decryption of age-format backups (https://age-encryption.org/v1), streamed."""
