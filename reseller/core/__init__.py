"""Shared foundation: config, extensions, transactions, jobs, clock and errors.

``wallet`` and ``whitelabel`` may import from here; nothing here imports a feature package.
"""
