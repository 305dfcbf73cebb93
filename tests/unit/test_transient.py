"""'Transient' is defined once (dialer.service.transient): what it covers and what not."""

from __future__ import annotations

import psycopg
import pydantic
import pytest
import redis.exceptions
import sqlalchemy.exc
from billiard.exceptions import SoftTimeLimitExceeded
from kombu.exceptions import OperationalError as BrokerError

from dialer.errors import (
    InfrastructureError,
    InvalidTransition,
    NotFound,
    ProviderError,
    ValidationError,
)
from dialer.provider import CallRefused
from dialer.service.transient import TRANSIENT_ERRORS, is_transient


def _sqlalchemy(kind: type[sqlalchemy.exc.DBAPIError]) -> sqlalchemy.exc.DBAPIError:
    return kind("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


@pytest.mark.parametrize("error", [
    _sqlalchemy(sqlalchemy.exc.OperationalError),
    _sqlalchemy(sqlalchemy.exc.InterfaceError),
    sqlalchemy.exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
    psycopg.OperationalError("connection refused"),
    redis.exceptions.ConnectionError("Connection refused"),
    redis.exceptions.TimeoutError("Timeout reading from socket"),
    ConnectionRefusedError(111, "Connection refused"),
    InfrastructureError("broker unreachable"),
], ids=lambda error: type(error).__qualname__)
def test_a_service_briefly_away_is_transient(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize("error", [
    ValidationError({"name": "required"}),
    NotFound("campaign x"),
    InvalidTransition("completed -> running"),
    ProviderError("carrier said no"),
    CallRefused("rate limited", retry_after_s=5),
    _sqlalchemy(sqlalchemy.exc.IntegrityError),
    _sqlalchemy(sqlalchemy.exc.ProgrammingError),
    redis.exceptions.ResponseError("NOSCRIPT"),
    SoftTimeLimitExceeded(),
    ValueError("a bug"),
    FileNotFoundError(2, "No such file", "contacts.csv"),
], ids=lambda error: type(error).__qualname__)
def test_mistakes_bugs_and_expected_refusals_are_not(error: BaseException) -> None:
    assert not is_transient(error)


class _BrokerDown:
    """Stands in for the Celery app: every send meets a broker that refuses."""

    def send_task(self, *_: object, **__: object) -> None:
        raise BrokerError("[Errno 111] Connection refused")


def test_a_kombu_error_is_transient_only_once_the_dispatcher_wrapped_it() -> None:
    # The service layer imports nothing of Celery: the broker's adapter wraps it.
    from workers.dispatch import CeleryDispatcher

    assert not is_transient(BrokerError("connection refused"))
    with pytest.raises(InfrastructureError, match="broker unreachable") as caught:
        CeleryDispatcher(_BrokerDown()).send_dial("call-1")  # type: ignore[arg-type]
    assert is_transient(caught.value)
    assert isinstance(caught.value.__cause__, BrokerError)


def test_pydantic_errors_are_input_not_infrastructure() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        pydantic.TypeAdapter(int).validate_python("x")
    assert not is_transient(caught.value)


def test_the_tuple_holds_classes_only_once() -> None:
    assert len(set(TRANSIENT_ERRORS)) == len(TRANSIENT_ERRORS)
