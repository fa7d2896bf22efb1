"""The drill's and the doctor's adapters: boto3 and slack-sdk behind :mod:`tokenfuse.drill.ports`.

Every answer is parsed here (pydantic where AWS returns a document), every call runs in
:func:`tokenfuse.adapters.aws.aws_call` (botocore's errors leave as tokenfuse's, one line, AWS's code
kept: decisions read ``error.code``), and lists are read through botocore's paginators.
"""
