"""Telephony providers: the built-in simulator and the loader for plug-ins; the interface
they implement is ``dialer.provider``."""

from __future__ import annotations

import importlib
import inspect
from typing import TYPE_CHECKING, Any

from dialer.errors import ConfigurationError
from dialer.provider import Provider

if TYPE_CHECKING:
    from dialer.service.runtime import Runtime


def load_provider(rt: Runtime) -> Provider:
    """``simulated`` or ``package.module:attr`` (a class or zero-argument factory)."""
    spec = rt.settings.provider
    if spec == "simulated":
        from dialer.providers.simulated import SimulatedProvider

        return SimulatedProvider.from_runtime(rt)
    target = resolve_provider(spec)
    provider: Provider = target() if callable(target) and (inspect.isclass(target) or
                                                 not hasattr(target, "place_call")) else target
    if not callable(getattr(provider, "place_call", None)):
        raise ConfigurationError(f"DIALER_PROVIDER: {spec!r} gave an object without place_call")
    return provider


def resolve_provider(spec: str) -> Any:
    """What ``package.module:attr`` names, imported; ``ConfigurationError`` naming the
    setting if it cannot be. The worker calls it at start (``workers.startup_checks``),
    so a typo stops the worker instead of failing every call."""
    if spec == "simulated":
        from dialer.providers.simulated import SimulatedProvider

        return SimulatedProvider
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigurationError(
            f"DIALER_PROVIDER: expected 'simulated' or 'module:attr', got {spec!r}")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except Exception as exc:  # ImportError, AttributeError, or the module's own error
        raise ConfigurationError(
            f"DIALER_PROVIDER: cannot load {spec!r}: {type(exc).__name__}: {exc}") from exc
    return target
