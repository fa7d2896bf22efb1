"""Logger, metrics and tracer, built once. Service name, namespace and level come from the
function's environment (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL,
set in the template's Globals).

The fallbacks matter where the package is imported before that environment exists (tests, the
sandbox, the CLI): Powertools reads it once, at construction, and refuses to flush metrics without
a namespace - which would fail a handler after its work was done.
"""

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "tokenfuse"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Tokenfuse"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)
