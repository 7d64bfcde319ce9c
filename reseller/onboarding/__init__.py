"""Reseller applications: apply (public), then operator staff approve or reject."""
