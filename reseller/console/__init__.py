"""The operator console: applications, resellers (later: credit, prices, ledger)."""
