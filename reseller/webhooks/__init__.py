"""Webhooks: reseller endpoints, signed deliveries (Standard Webhooks), retries and replay."""
