"""Reseller accounts, their users and roles, machine credentials and login."""
