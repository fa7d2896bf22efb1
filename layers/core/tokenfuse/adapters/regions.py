"""AWS regions as botocore knows them: where Amazon Bedrock has an endpoint, and what a region is
called in prose ("US East (N. Virginia)").

Both come from the data botocore ships (``endpoints.json`` and ``partitions.json``), read on first
use and cached, so a botocore upgrade brings new regions and no hand table drifts. Nothing here is
imported or read on a handler's cold path unless that path needs it.

CloudWatch alarm notifications (SNS) name their region in prose (``"Region": "EU (Ireland)"``)
and writes European regions the older way, "EU (...)", where botocore's descriptions now read
"Europe (...)" (real notifications from 2020 to 2025 all say "EU (Ireland)", "EU (Frankfurt)"):
:func:`region_code` accepts both forms.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TypedDict

from tokenfuse.adapters.aws import default_session

_EUROPE = "Europe ("
_EU = "EU ("


class _Region(TypedDict, total=False):
    description: str


class _Partition(TypedDict):
    partition: str
    regionRegex: str
    regions: dict[str, _Region]


@cache
def _partitions() -> tuple[_Partition, ...]:
    from botocore.loaders import create_loader  # botocore's data loader: off the cold path until used

    document = create_loader().load_data("partitions")
    return tuple(
        {"partition": p["id"], "regionRegex": p["regionRegex"], "regions": p.get("regions", {})}
        for p in document.get("partitions", [])
    )


@cache
def bedrock_regions(partition: str = "aws") -> tuple[str, ...]:
    """Every region of ``partition`` where botocore has an Amazon Bedrock (control plane) endpoint."""
    return tuple(sorted(default_session().get_available_regions("bedrock", partition_name=partition)))


@cache
def _codes_by_name() -> dict[str, str]:
    names: dict[str, str] = {}
    for partition in _partitions():
        pattern = re.compile(partition["regionRegex"])
        for code, region in partition["regions"].items():
            description = region.get("description")
            if not description or not pattern.fullmatch(code):
                continue  # "aws-global" and the like are not regions
            names[description] = code
            if description.startswith(_EUROPE):
                names[_EU + description[len(_EUROPE) :]] = code
    return names


def region_code(name: str) -> str | None:
    """The region code for a region's prose name ("EU (Ireland)" or "Europe (Ireland)" ->
    ``eu-west-1``), or None for a name botocore does not know."""
    return _codes_by_name().get(" ".join(name.split()))
