"""The only place tokenfuse talks to AWS or HTTP. Each adapter takes an injectable client or session
and turns botocore's ClientError codes into tokenfuse.errors exceptions."""
