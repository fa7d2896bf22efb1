"""The domain's own exceptions. :func:`tokenfuse.adapters.aws.aws_call` turns botocore's errors into
the :class:`AwsError` family, keeping AWS's error code and the operation as attributes: callers test
``error.code``, never the message's text."""


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


class UnsupportedSchemaVersion(TokenfuseError):
    """A bus event of a schema version this code does not read (newer than current, or older than
    the previous one): refused whole, in one line, so it dead-letters instead of being half read."""


class AwsError(TokenfuseError):
    """An AWS call that failed after botocore's own retries.

    ``code`` is AWS's error code (``ClientError``'s ``Error.Code``) or, for a failure that never got
    an answer, botocore's exception name (``ReadTimeoutError``); ``operation`` the call as IAM names
    it (``bedrock:TagResource``); ``resource`` what it was about, when the caller said;
    ``request_id`` the id AWS gave the refused request (for CloudTrail or a support case), when it
    answered. All are None on an error tokenfuse raises itself (e.g. ``NotFound("no policy named ...")``).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        operation: str | None = None,
        resource: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.operation = operation
        self.resource = resource
        self.request_id = request_id


class NotFound(AwsError):
    """An AWS resource tokenfuse looked for does not exist."""


class AccessDenied(AwsError):
    """AWS refused tokenfuse's call (missing role, SCP, permission)."""


class TransientAwsError(AwsError):
    """Throttling, a 5xx or a time-out after botocore's own retries: worth retrying later (Step
    Functions Retry names this class)."""


class ConditionFailed(AwsError):
    """A conditional write found the item in another state than expected (DynamoDB's
    ``ConditionalCheckFailedException``, or a transaction cancelled by one of its conditions)."""


class CredentialsMissing(AwsError):
    """No AWS credentials were found: the call never left (a configuration problem, not AWS's)."""
