"""Tunnus: white-label domain reselling. This package owns the web app and domain features."""
