"""Placeholder replaced by the MILP module."""
