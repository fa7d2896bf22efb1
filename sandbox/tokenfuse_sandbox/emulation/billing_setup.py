"""Emulation: the billing and mail set-up ``tokenfuse doctor`` reads, inside moto (moto 5.2.5 has none).

:func:`install` adds to moto's own services, so boto3's clients work unchanged:

- **Cost Explorer** (``ce``): ``CreateAnomalyMonitor``, ``GetAnomalyMonitors``,
  ``CreateAnomalySubscription``, ``GetAnomalySubscriptions`` (ARNs of AWS's form, subscribers kept as
  given), and ``UpdateCostAllocationTagsStatus`` / ``ListCostAllocationTags`` (user-defined tags
  with their status; a key never updated is not listed, as a tag Billing has never seen);
- **Budgets**: ``DescribeSubscribersForNotification`` over the notifications moto keeps;
- **SES v2**: ``GetAccount`` and ``PutAccountDetails`` (``ProductionAccessEnabled``: a new account
  is in the SES sandbox, 200 messages a day; asking for production access grants it at once here).

Like moto's own services, state lives on the backend of each account.

What it does NOT prove: that CAD detects anything or publishes to the topic (the sandbox publishes
its alerts itself), the review AWS makes of a production-access request, Billing's delay before a
new tag can be activated, threshold expressions, pagination beyond one page.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

from moto.budgets.responses import BudgetsResponse
from moto.ce.responses import CostExplorerResponse
from moto.sesv2.responses import SESV2Response

from tokenfuse import clock
from tokenfuse_sandbox.emulation.moto_patches import MotoPatches

__all__ = ["install", "installed", "uninstall"]

_STATE = "_tokenfuse_billing_setup"
_lock = threading.RLock()
_patches = MotoPatches()
_added: list[tuple[type[Any], str]] = []


def _state(backend: Any) -> dict[str, Any]:
    with _lock:
        state: dict[str, Any] = backend.__dict__.setdefault(
            _STATE, {"monitors": {}, "subscriptions": {}, "tags": {}, "production": False}
        )
        return state


def _params(response: Any) -> dict[str, Any]:
    body = json.loads(response.body or "{}")
    return body if isinstance(body, dict) else {}


# -- Cost Explorer ------------------------------------------------------------------------------------


def _ce_arn(response: Any, kind: str) -> str:
    return f"arn:aws:ce::{response.current_account}:{kind}/{uuid.uuid4()}"


def create_anomaly_monitor(self: CostExplorerResponse) -> str:
    monitor = dict(_params(self).get("AnomalyMonitor") or {})
    arn = _ce_arn(self, "anomalymonitor")
    monitor |= {"MonitorArn": arn, "CreationDate": clock.now().date().isoformat()}
    _state(self.ce_backend)["monitors"][arn] = monitor
    return json.dumps({"MonitorArn": arn})


def get_anomaly_monitors(self: CostExplorerResponse) -> str:
    wanted = _params(self).get("MonitorArnList") or []
    monitors = _state(self.ce_backend)["monitors"]
    return json.dumps({"AnomalyMonitors": [m for a, m in monitors.items() if not wanted or a in wanted]})


def create_anomaly_subscription(self: CostExplorerResponse) -> str:
    subscription = dict(_params(self).get("AnomalySubscription") or {})
    arn = _ce_arn(self, "anomalysubscription")
    subscription |= {"SubscriptionArn": arn, "AccountId": self.current_account}
    _state(self.ce_backend)["subscriptions"][arn] = subscription
    return json.dumps({"SubscriptionArn": arn})


def get_anomaly_subscriptions(self: CostExplorerResponse) -> str:
    params = _params(self)
    wanted = params.get("SubscriptionArnList") or []
    monitor = params.get("MonitorArn")
    found = [
        s
        for a, s in _state(self.ce_backend)["subscriptions"].items()
        if (not wanted or a in wanted) and (not monitor or monitor in s.get("MonitorArnList", []))
    ]
    return json.dumps({"AnomalySubscriptions": found})


def update_cost_allocation_tags_status(self: CostExplorerResponse) -> str:
    tags = _state(self.ce_backend)["tags"]
    for entry in _params(self).get("CostAllocationTagsStatus") or []:
        tags[str(entry["TagKey"])] = str(entry["Status"])
    return json.dumps({"Errors": []})


def list_cost_allocation_tags(self: CostExplorerResponse) -> str:
    params = _params(self)
    wanted = params.get("TagKeys") or []
    status = params.get("Status")
    found = [
        {"TagKey": key, "Type": "UserDefined", "Status": value}
        for key, value in sorted(_state(self.ce_backend)["tags"].items())
        if (not wanted or key in wanted) and (not status or status == value)
    ]
    return json.dumps({"CostAllocationTags": found})


# -- Budgets ------------------------------------------------------------------------------------------


def describe_subscribers_for_notification(self: BudgetsResponse) -> str:
    account = self._get_param("AccountId")
    wanted = self._get_param("Notification")
    budget = self.backend.budgets[account].get(self._get_param("BudgetName"))
    found = next((n for n in (budget.notifications if budget else []) if n.details == wanted), None)
    return json.dumps({"Subscribers": list(found.subscribers) if found else [], "NextToken": None})


# -- SES v2 -------------------------------------------------------------------------------------------


def get_account(self: SESV2Response) -> str:
    production = bool(_state(self.sesv2_backend)["production"])
    quota = 50_000.0 if production else 200.0
    return json.dumps(
        {
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": "HEALTHY",
            "ProductionAccessEnabled": production,
            "SendQuota": {
                "Max24HourSend": quota,
                "MaxSendRate": 14.0 if production else 1.0,
                "SentLast24Hours": 0,
            },
            "SendingEnabled": True,
        }
    )


def put_account_details(self: SESV2Response) -> str:
    if _params(self).get("ProductionAccessEnabled"):
        _state(self.sesv2_backend)["production"] = True
    return json.dumps({})


_METHODS: dict[type[Any], dict[str, Any]] = {
    CostExplorerResponse: {
        "create_anomaly_monitor": create_anomaly_monitor,
        "get_anomaly_monitors": get_anomaly_monitors,
        "create_anomaly_subscription": create_anomaly_subscription,
        "get_anomaly_subscriptions": get_anomaly_subscriptions,
        "update_cost_allocation_tags_status": update_cost_allocation_tags_status,
        "list_cost_allocation_tags": list_cost_allocation_tags,
    },
    BudgetsResponse: {"describe_subscribers_for_notification": describe_subscribers_for_notification},
    SESV2Response: {"get_account": get_account, "put_account_details": put_account_details},
}


def install() -> None:
    """Add the operations to moto's responses (process-wide; idempotent)."""
    with _lock:
        if _added:
            return
        for response, methods in _METHODS.items():
            for name, method in methods.items():
                if hasattr(response, name):  # a later moto may have it: replace it, and put it back
                    _patches.replace(response, name, method)
                else:
                    setattr(response, name, method)
                    _added.append((response, name))


def uninstall() -> None:
    with _lock:
        _patches.restore()
        while _added:
            response, name = _added.pop()
            delattr(response, name)


def installed() -> bool:
    return bool(_added) or _patches.installed
