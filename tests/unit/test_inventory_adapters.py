"""Inventory adapters against in-memory fakes driven by botocore's own paginators: every page read,
only ACTIVE accounts, AWS's codes decide (no organization, ListRegions refused), batches of 100."""

from dataclasses import replace
from datetime import date

import pytest
from botocore.exceptions import ClientError

from tests.support.paging import paginator
from tokenfuse.adapters.alarms import AlarmDefinition, delete_alarms, describe_alarms
from tokenfuse.adapters.cost_explorer import cost_by_tag
from tokenfuse.adapters.organizations import enabled_regions, list_active_accounts
from tokenfuse.errors import AccessDenied, AwsError, TransientAwsError


def _error(code, op="Op", status=400):
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, op
    )


class Pages:
    """One operation answering ``pages`` in turn, the token (``token_key``) naming the next page."""

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
        self.list_accounts = Pages(pages or [{"Accounts": []}], "NextToken", error)

    def get_paginator(self, name):
        return paginator("organizations", name, getattr(self, name))


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
    assert [c.get("NextToken") for c in org.list_accounts.calls] == [None, "1"]


def test_no_organization_is_none_and_denied_is_access_denied():
    assert list_active_accounts(FakeOrganizations(error=_error("AWSOrganizationsNotInUseException"))) is None
    with pytest.raises(AccessDenied) as denied:
        list_active_accounts(FakeOrganizations(error=_error("AccessDeniedException", "ListAccounts")))
    assert (denied.value.code, denied.value.operation) == (
        "AccessDeniedException",
        "organizations:ListAccounts",
    )


class FakeAccount:
    def __init__(self, pages=None, error=None):
        self.list_regions = Pages(pages or [{"Regions": []}], "NextToken", error)

    def get_paginator(self, name):
        return paginator("account", name, getattr(self, name))


def test_enabled_regions_intersects_and_falls_back():
    account = FakeAccount(
        [{"Regions": [{"RegionName": "us-east-1"}]}, {"Regions": [{"RegionName": "eu-west-1"}]}]
    )
    assert enabled_regions(account, ["us-east-1", "us-west-2", "eu-west-1"]) == ["us-east-1", "eu-west-1"]
    first = account.list_regions.calls[0]
    assert first["RegionOptStatusContains"] == ["ENABLED", "ENABLED_BY_DEFAULT"] and first["MaxResults"] == 50
    for refusal in (
        _error("AccessDeniedException"),
        _error("UnknownOperationException"),
        _error("404", status=404),
    ):
        assert enabled_regions(FakeAccount(error=refusal), ["us-east-1", "us-west-2"]) == [
            "us-east-1",
            "us-west-2",
        ]


def test_enabled_regions_raises_what_is_not_a_refusal():
    with pytest.raises(TransientAwsError) as throttled:
        enabled_regions(FakeAccount(error=_error("TooManyRequestsException", status=429)), ["us-east-1"])
    assert throttled.value.code == "TooManyRequestsException"
    with pytest.raises(AwsError) as invalid:
        enabled_regions(FakeAccount(error=_error("ValidationException")), ["us-east-1"])
    assert type(invalid.value) is AwsError and invalid.value.code == "ValidationException"


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
    # 10.5 + 1.5 for search over the two pages, 2 untagged
    assert cost_by_tag(ce, date(2026, 11, 26), date(2026, 11, 27), "team") == {
        "team$search": 12.0,
        "team$": 2.0,
    }
    call = ce.get_cost_and_usage.calls[0]
    assert call["GroupBy"] == [{"Type": "TAG", "Key": "team"}]
    assert call["Filter"] == {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Bedrock"]}}
    assert call["TimePeriod"] == {"Start": "2026-11-26", "End": "2026-11-27"}


class FakeCloudWatch:
    def __init__(self, alarm_pages=None):
        self.deleted = []
        self.describe_alarms = Pages(alarm_pages or [{"MetricAlarms": []}], "NextToken")

    def delete_alarms(self, AlarmNames):
        self.deleted.append(AlarmNames)

    def get_paginator(self, name):
        return paginator("cloudwatch", name, getattr(self, name))


def _raw_alarm(name):
    return {
        "AlarmName": name, "Namespace": "AWS/Bedrock", "MetricName": "OutputTokenCount",
        "Dimensions": [{"Name": "ModelId", "Value": name[-3:]}], "Statistic": "Sum", "Period": 60,
        "EvaluationPeriods": 3, "Threshold": 100.0, "ComparisonOperator": "GreaterThanThreshold",
    }  # fmt: skip


def test_describe_alarms_reads_every_page_with_the_prefix():
    cw = FakeCloudWatch(
        [{"MetricAlarms": [_raw_alarm("tokenfuse-a-p01")]}, {"MetricAlarms": [_raw_alarm("tokenfuse-a-p02")]}]
    )
    alarms = describe_alarms(cw, "tokenfuse-")
    assert sorted(alarms) == ["tokenfuse-a-p01", "tokenfuse-a-p02"]
    assert alarms["tokenfuse-a-p02"].dimensions == (("ModelId", "p02"),)
    assert alarms["tokenfuse-a-p01"].datapoints_to_alarm == 3  # none set: EvaluationPeriods
    first, second = cw.describe_alarms.calls
    assert first == {"AlarmNamePrefix": "tokenfuse-", "AlarmTypes": ["MetricAlarm"], "MaxRecords": 100}
    assert second["NextToken"] == "1"


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
