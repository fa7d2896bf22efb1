"""Faults the sandbox can inject into the deployment ``tokenfuse drill`` and ``tokenfuse doctor``
prove (``--sandbox-fault``), each a thing that really goes wrong in an organization:

``guard-detached``
    the guard SCP exists but is attached nowhere (someone detached it): no trip can deny anything;
``logging-off``
    model invocation logging is not configured in the member accounts;
``slack-token-invalid``
    the bot token in the stack's secret is revoked (Slack answers ``invalid_auth``);
``metrics-missing``
    no ``AWS/Bedrock`` datapoint reaches CloudWatch (as when the metrics carry a ``ModelId`` no
    alarm watches, or never arrive): moto's CloudWatch drops them while the fault is in force.

:mod:`tokenfuse_sandbox.proving` applies them while it seeds; :func:`drop_bedrock_metrics` is the
one that patches moto.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tokenfuse_sandbox.emulation.moto_patches import MotoPatches

FAULTS = ("guard-detached", "logging-off", "slack-token-invalid", "metrics-missing")
REVOKED_TOKEN = "xoxb-revoked-by-fault-injection"  # noqa: S105 - a fake token the sandbox Slack refuses
BEDROCK_NAMESPACE = "AWS/Bedrock"


class UnknownFault(ValueError):
    pass


def checked(faults: Iterable[str]) -> frozenset[str]:
    """The faults, each one of :data:`FAULTS` (else one line naming the known ones)."""
    chosen = frozenset(faults)
    unknown = sorted(chosen - set(FAULTS))
    if unknown:
        raise UnknownFault(f"unknown sandbox fault {', '.join(unknown)}: choose from {', '.join(FAULTS)}")
    return chosen


def drop_bedrock_metrics() -> Callable[[], None]:
    """moto's CloudWatch drops every ``AWS/Bedrock`` datapoint until the returned function is called."""
    from moto.cloudwatch.models import CloudWatchBackend

    patches = MotoPatches()
    original = CloudWatchBackend.put_metric_data

    def put_metric_data(backend: Any, namespace: str, metric_data: list[dict[str, Any]]) -> None:
        if namespace != BEDROCK_NAMESPACE:
            original(backend, namespace, metric_data)

    patches.replace(CloudWatchBackend, "put_metric_data", put_metric_data)
    return patches.restore
