"""The wallet: a double-entry ledger of reseller funds, holds, top-ups and withdrawals.

Imports only ``reseller.core``; the HTTP layer lives in ``reseller.billing``.
"""
