"""place_with_timeout: the three answers, the abandoned thread, and the stuck-call cap (no I/O)."""

from __future__ import annotations

import threading

import pytest

from dialer.provider import CallRefused, CallRequest
from dialer.service import provider_call
from dialer.service.provider_call import Placed, Refused, Unknown, place_with_timeout, stuck_calls

REQUEST = CallRequest(call_id="c1", campaign_id="k", contact_id=1, attempt=1, to="+12125550000",
                      from_number=None, agent_id=None, ring_timeout_s=10, max_duration_s=60)


class Scripted:
    def __init__(self, action: object) -> None:
        self.action, self.calls = action, 0

    def place_call(self, request: CallRequest) -> str:
        self.calls += 1
        if isinstance(self.action, BaseException):
            raise self.action
        return str(self.action)


class Blocking:
    def __init__(self) -> None:
        self.release, self.calls = threading.Event(), 0

    def place_call(self, request: CallRequest) -> str:
        self.calls += 1
        assert self.release.wait(10)
        return f"late-{request.call_id}"


def ask(provider: object, *, timeout_s: float = 5.0, late: list[str] | None = None) -> object:
    return place_with_timeout(provider, REQUEST, timeout_s=timeout_s,  # type: ignore[arg-type]
                              on_late=(late if late is not None else []).append)


@pytest.mark.parametrize(("action", "answer"), [
    ("prov-1", Placed("prov-1")),
    (CallRefused("rate limited", retry_after_s=12.5), Refused("rate limited", 12.5)),
    (CallRefused(), Refused("refused by the provider", None)),
    (ConnectionResetError("+12125550000 reset"), Unknown("error", "ConnectionResetError")),
    (TimeoutError(), Unknown("error", "TimeoutError")),
])
def test_each_answer(action, answer):
    assert ask(Scripted(action)) == answer


def test_a_hung_call_is_abandoned_and_its_late_id_still_reported():
    provider, late = Blocking(), []
    assert ask(provider, timeout_s=0.05, late=late) == Unknown("timeout", "no answer within 0.05 s")
    assert stuck_calls() == 1 and late == []
    provider.release.set()
    assert _wait_until(lambda: late == ["late-c1"]), late
    assert stuck_calls() == 0


def test_too_many_stuck_calls_refuse_without_asking_the_provider(monkeypatch):
    monkeypatch.setattr(provider_call, "MAX_STUCK_PER_PROCESS", 2)
    hung = Blocking()
    try:
        assert isinstance(ask(hung, timeout_s=0.01), Unknown)
        assert isinstance(ask(hung, timeout_s=0.01), Unknown)
        fresh = Scripted("prov-2")
        answer = ask(fresh)
        assert isinstance(answer, Refused) and fresh.calls == 0
    finally:
        hung.release.set()
    assert _wait_until(lambda: stuck_calls() == 0)
    assert ask(Scripted("prov-3")) == Placed("prov-3")


def _wait_until(predicate, timeout_s: float = 10.0) -> bool:
    event = threading.Event()
    for _ in range(int(timeout_s / 0.01)):
        if predicate():
            return True
        event.wait(0.01)
    return bool(predicate())
