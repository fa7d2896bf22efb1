"""Inventory adapters against fakes: pagination and error translation."""

from dataclasses import replace
from datetime import date

import pytest
from botocore.exceptions import ClientError

from tokenfuse.adapters.alarms import AlarmDefinition, delete_alarms
from tokenfuse.adapters.cost_explorer import cost_by_tag
from tokenfuse.adapters.organizations import enabled_regions, list_active_accounts
from tokenfuse.errors import AccessDenied


def _error(code, op="Op"):
    return ClientError({"Error": {"Code": code, "Message": code}}, op)


class Pages:
    def __init__(self, pages, token_key, error=None):
        self.pages, self.token_key, self.error, self.calls = pages, token_key, error, []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        if self.error:
            raise self.error
        index = int(kwargs.get(self.token_key, 0))
        page = dict(self.pages[index])
        if index + 1 < len(self.pages):
            page[self.token_key] = str(index + 1)
        return page


class FakeOrganizations:
    def __init__(self, pages=None, error=None):
        self.list_accounts = Pages(pages or [], "NextToken", error)


def test_list_active_accounts_paginates_and_keeps_active_only():
    org = FakeOrganizations(
        [
            {
                "Accounts": [
                    {"Id": "111", "Name": "a", "Status": "ACTIVE"},
                    {"Id": "222", "Status": "SUSPENDED"},
                ]
            },
            {
                "Accounts": [
                    {"Id": "333", "Name": "c", "State": "ACTIVE"},
                    {"Id": "444", "State": "PENDING_CLOSURE"},
                ]
            },
        ]
    )
    assert [a.account_id for a in list_active_accounts(org)] == ["111", "333"]
    assert len(org.list_accounts.calls) == 2


def test_no_organization_is_none_and_denied_is_access_denied():
    assert list_active_accounts(FakeOrganizations(error=_error("AWSOrganizationsNotInUseException"))) is None
    with pytest.raises(AccessDenied):
        list_active_accounts(FakeOrganizations(error=_error("AccessDeniedException")))


class FakeAccount:
    def __init__(self, pages=None, error=None):
        self.list_regions = Pages(pages or [], "NextToken", error)


def test_enabled_regions_intersects_and_falls_back():
    account = FakeAccount(
        [{"Regions": [{"RegionName": "us-east-1"}]}, {"Regions": [{"RegionName": "eu-west-1"}]}]
    )
    assert enabled_regions(account, ["us-east-1", "us-west-2", "eu-west-1"]) == ["us-east-1", "eu-west-1"]
    denied = FakeAccount(error=_error("AccessDeniedException"))
    assert enabled_regions(denied, ["us-east-1", "us-west-2"]) == ["us-east-1", "us-west-2"]


class FakeCostExplorer:
    def __init__(self, pages):
        self.get_cost_and_usage = Pages(pages, "NextPageToken")


def test_cost_by_tag_sums_days_and_pages():
    def group(key, amount):
        return {"Keys": [key], "Metrics": {"UnblendedCost": {"Amount": str(amount), "Unit": "USD"}}}

    ce = FakeCostExplorer(
        [
            {"ResultsByTime": [{"Groups": [group("team$search", 10.5), group("team$", 2)]}]},
            {"ResultsByTime": [{"Groups": [group("team$search", 1.5)]}, {"Groups": [], "Total": {}}]},
        ]
    )
    assert cost_by_tag(ce, date(2026, 11, 26), date(2026, 11, 27), "team") == {
        "team$search": 12.0,
        "team$": 2.0,
    }
    call = ce.get_cost_and_usage.calls[0]
    assert call["GroupBy"] == [{"Type": "TAG", "Key": "team"}]
    assert call["Filter"] == {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Bedrock"]}}
    assert call["TimePeriod"] == {"Start": "2026-11-26", "End": "2026-11-27"}


class FakeCloudWatch:
    def __init__(self):
        self.deleted = []

    def delete_alarms(self, AlarmNames):
        self.deleted.append(AlarmNames)


def test_delete_alarms_in_batches_of_100():
    cw = FakeCloudWatch()
    assert delete_alarms(cw, [f"a{i}" for i in range(250)]) == 250
    assert [len(b) for b in cw.deleted] == [100, 100, 50]
    assert delete_alarms(cw, []) == 0


def test_alarm_same_as_ignores_description_only():
    base = AlarmDefinition(
        "n", "AWS/Bedrock", "OutputTokenCount", (("ModelId", "x"),), "Sum", 60, 3, 3, 100.0
    )
    assert base.same_as(replace(base, description="other"))
    assert not base.same_as(replace(base, threshold=200.0))
    assert not base.same_as(replace(base, dimensions=(("ModelId", "y"),)))
