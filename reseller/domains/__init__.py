"""Domains: names, contacts, orders over the wallet, management and the lifecycle."""
