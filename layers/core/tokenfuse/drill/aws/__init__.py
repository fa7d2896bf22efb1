"""The drill's and the doctor's adapters: boto3 and slack-sdk behind :mod:`tokenfuse.drill.ports`.

Every answer is parsed here (pydantic where AWS returns a document) and every botocore error is
turned into the domain's own (:func:`tokenfuse.adapters.aws.translate`), on one line.
"""
