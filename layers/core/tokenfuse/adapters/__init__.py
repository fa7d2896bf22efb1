"""The only place tokenfuse talks to AWS or HTTP. Each adapter takes an injectable client or session
and makes every AWS call through :func:`tokenfuse.adapters.aws.aws_call`, which turns botocore's errors
into tokenfuse.errors exceptions that keep AWS's error code (``error.code``) and the operation."""
