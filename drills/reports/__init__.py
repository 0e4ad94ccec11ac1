"""Signed drill reports, their keys, and the evidence store that keeps them."""
