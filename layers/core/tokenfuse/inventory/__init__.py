"""The inventory of application inference profiles across the organization.

- :mod:`.models`: the inventory record (what attribution reads first) and its compliance.
- :mod:`.compliance`: mandatory tags and known teams (pure).
- :mod:`.owners`: the team directory as the inventory needs it (known teams, alarm thresholds).
- :mod:`.thresholds`: the token-rate alarm of a profile and its threshold (pure).
- :mod:`.attributable`: the attributable share of Bedrock spend (pure).
- :mod:`.cloudtrail`: the profile change a CloudTrail event names (pure).
- :mod:`.events`: ``ProfileNonCompliant``, the bus event for FinOps.
- :mod:`.service`: the three jobs of the inventory function (CloudTrail change, daily fan-out,
  one account's sweep) wired to the adapters.
"""
