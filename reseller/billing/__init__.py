"""The wallet's web layer: API, client-area pages and console pages over ``wallet``."""
