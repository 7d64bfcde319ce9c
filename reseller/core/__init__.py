"""The kernel: config, extensions, transactions, jobs, events, clock, errors, and the web
shell (``reseller.core.web``).

It imports nothing outside ``reseller.core``; ``wallet``, ``whitelabel`` and every feature
build on it, and plug into it in their ``init_app`` (tests/unit/test_import_rules.py).
"""
