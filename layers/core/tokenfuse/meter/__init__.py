"""The invocation-log meter: Bedrock model invocation records priced per request, added up per
profile and caller in 10-second buckets, and a spend-rate event when a burn rate stays above its
armed threshold (:mod:`.service`)."""
