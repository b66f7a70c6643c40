"""Salescope."""
