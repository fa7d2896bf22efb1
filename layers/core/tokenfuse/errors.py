"""The domain's own exceptions. Adapters translate botocore's ClientError codes into these."""


class TokenfuseError(Exception):
    """Base of every error tokenfuse raises on purpose."""


class SignalError(TokenfuseError):
    """A payload that is not a spend signal tokenfuse understands. The message is one line."""


class UnsupportedSignal(SignalError):
    """Well-formed, but not a kind of event tokenfuse handles (e.g. an alarm leaving ALARM)."""


class MalformedSignal(SignalError):
    """Claims to be a known kind of signal but does not parse."""


class ImplausibleSignal(SignalError):
    """Parses, but a figure or time is beyond what a real signal carries (negative or huge money,
    a window far from its receipt, an amount not in US dollars): refused before the bus."""


class NotFound(TokenfuseError):
    """An AWS resource tokenfuse looked for does not exist."""


class AccessDenied(TokenfuseError):
    """AWS refused tokenfuse's call (missing role, SCP, permission)."""


class TransientAwsError(TokenfuseError):
    """Throttling or a 5xx after botocore's own retries: worth retrying later (Step Functions Retry)."""
