"""The TLD catalogue: registry rules per TLD, price lists, volume tiers, retail prices."""
