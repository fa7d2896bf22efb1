"""Remediation's own errors. Each reaches the state machine as the Lambda error type (the class
name); every Task Catches them into ``Escalate`` (none is retried: a person has to look)."""

from tokenfuse.errors import TokenfuseError


class ProtectedProfile(TokenfuseError):
    """The profile carries the protected tag: tokenfuse never trips it."""


class NothingToTrip(TokenfuseError):
    """The mechanism needs targets the profile does not name (inline-deny without caller roles)."""


class RestoreIncomplete(TokenfuseError):
    """Some recorded changes could not be put back (the rest were)."""


class InvalidTaskInput(TokenfuseError):
    """The state machine passed a payload the task does not understand."""
