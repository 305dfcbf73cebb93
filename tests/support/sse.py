"""A small server-sent-events reader over httpx (the test's own, not the server's code)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Event:
    event: str
    data: Any
    id: str | None
    received_at: float  # time.monotonic()


def read_events(response: httpx.Response) -> Iterator[Event]:
    name, data, event_id = "message", [], None
    for line in response.iter_lines():
        if line == "":
            if data:
                yield Event(name, json.loads("\n".join(data)), event_id, time.monotonic())
            name, data, event_id = "message", [], None
        elif line.startswith(":"):
            continue  # a heartbeat comment
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                event_id = value
