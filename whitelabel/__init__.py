"""White label: brands, sender domains, DKIM, the durable email outbox, branded pages.

Imports only ``reseller.core``; never a ``reseller`` feature package.
"""
