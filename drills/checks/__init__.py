"""Verification of restored data: findings, the checks that produce them, the verdict."""
