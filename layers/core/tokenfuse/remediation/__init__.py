"""Remediation: policy, on-call approval, trip, verify, audit and restore of a runaway profile.

The state machine (``statemachines/remediation.asl.json``) calls :func:`tokenfuse.remediation.tasks.dispatch`
through RemediateFunction; the approve endpoint uses :mod:`tokenfuse.remediation.interactions`.
"""
