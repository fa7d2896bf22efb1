"""Putting tokenfuse's events on its EventBridge bus."""

import json
from typing import Any

from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import client, translate
from tokenfuse.errors import TokenfuseError
from tokenfuse.events import BUS_SOURCES, DETAIL_TYPES, BusModel


class EventBus:
    def __init__(self, bus_name: str, events_client: Any | None = None) -> None:
        self.bus_name = bus_name
        self._client = events_client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = client("events")
        return self._client

    def put(self, *events: BusModel) -> None:
        """Put events on the bus (at most 10 per call); raise if any entry failed."""
        for start in range(0, len(events), 10):
            batch = events[start : start + 10]
            entries = [
                {
                    "EventBusName": self.bus_name,
                    "Source": BUS_SOURCES[type(event)],
                    "DetailType": DETAIL_TYPES[type(event)],
                    "Detail": json.dumps(event.to_bus()),
                }
                for event in batch
            ]
            try:
                response = self.client.put_events(Entries=entries)
            except ClientError as error:
                raise translate(error) from error
            if response.get("FailedEntryCount"):
                failed = [e for e in response["Entries"] if e.get("ErrorCode")]
                reason = failed[0].get("ErrorMessage")
                raise TokenfuseError(f"{len(failed)} event(s) refused by the bus: {reason}")
