"""Helpers shared by the Redis Lua primitives (leases, limiter, breaker)."""

from __future__ import annotations

from importlib import resources

from dialer.coordination.checks import finite_seconds


def lua_source(name: str) -> str:
    return resources.files("dialer.coordination").joinpath("lua", name).read_text(encoding="utf-8")


def as_text(value: bytes | str | None) -> str | None:
    # The client may or may not decode responses; callers always get str.
    if isinstance(value, bytes):
        return value.decode()
    return value


def seconds_arg(value: float, name: str) -> str:
    """A finite float as the exact text Redis and Lua parse back to the same double."""
    return repr(finite_seconds(value, name))
