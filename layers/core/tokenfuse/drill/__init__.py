"""The fire drill and the doctor: prove the breaker in a real organization, and keep proving it.

- :mod:`.canary`: what a drill canary is (the one predicate every figure uses to leave canaries
  out), how it is named, and which model it calls (the cheapest text model the price table knows).
- :mod:`.drill`: the drill's steps (canary -> one call -> its metric -> a trip through the deployed
  state machine -> a refused call -> the tag-conditioned guard -> restore -> a call that goes
  through -> delete), each a named check; a drill cut short leaves nothing blocked or behind.
- :mod:`.doctor`: the deployment's health without touching traffic, as a list of checks a later
  check can join.
- :mod:`.ports`: what the two need of AWS and Slack; :mod:`.adapters` implements it with boto3.
- :mod:`.report`: the checks and the reports (``--json`` as ``contracts.md`` fixes, and text).
"""
