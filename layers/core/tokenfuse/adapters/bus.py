"""Putting tokenfuse's events on its EventBridge bus."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tokenfuse.adapters.aws import aws_call, client
from tokenfuse.errors import TokenfuseError
from tokenfuse.events import BUS_SOURCES, DETAIL_TYPES, BusModel

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef


class EventBus:
    def __init__(self, bus_name: str, events_client: EventBridgeClient | None = None) -> None:
        self.bus_name = bus_name
        self._client = events_client

    @property
    def client(self) -> EventBridgeClient:
        if self._client is None:
            self._client = client("events")
        return self._client

    def put(self, *events: BusModel) -> None:
        """Put events on the bus (at most 10 per call); raise if any entry failed."""
        for start in range(0, len(events), 10):
            batch = events[start : start + 10]
            entries: list[PutEventsRequestEntryTypeDef] = [
                {
                    "EventBusName": self.bus_name,
                    "Source": BUS_SOURCES[type(event)],
                    "DetailType": DETAIL_TYPES[type(event)],
                    "Detail": json.dumps(event.to_bus()),
                }
                for event in batch
            ]
            with aws_call("events:PutEvents", resource=self.bus_name):
                response = self.client.put_events(Entries=entries)
            if response.get("FailedEntryCount"):
                failed = [e for e in response["Entries"] if e.get("ErrorCode")]
                reason = failed[0].get("ErrorMessage")
                raise TokenfuseError(f"{len(failed)} event(s) refused by the bus: {reason}")
