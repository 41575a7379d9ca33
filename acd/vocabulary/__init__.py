"""The vocabulary every layer shares: tiers, events, commands, records."""
