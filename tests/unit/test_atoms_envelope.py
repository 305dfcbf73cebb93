"""Errors as Atoms answers them (dialer/api/atoms/envelope.py): the status Atoms documents
and ``{"status": false, "errors": [...]}`` with fields by the names the caller sent."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi import HTTPException

from dialer.api.atoms.envelope import PayloadTooLarge, as_atoms_response
from dialer.errors import InvalidTransition, NotFound, ValidationError


def answer(exc: Exception) -> tuple[int, list[str]]:
    response = as_atoms_response(exc)
    body = json.loads(bytes(response.body))
    assert body["status"] is False and set(body) == {"status", "errors"}
    return response.status_code, body["errors"]


@pytest.mark.parametrize(("exc", "status", "errors"), [
    (ValidationError([("retry.retry_delay_minutes", "too long"), ("name", "blank")]), 400,
     ["retryDelay: too long", "name: blank"]),
    (ValidationError([("", "At least one search parameter is required.")]), 400,
     ["At least one search parameter is required."]),
    (NotFound("campaign x not found"), 404, ["campaign x not found"]),
    (InvalidTransition("cannot pause a draft campaign"), 400,
     ["cannot pause a draft campaign"]),
    (PayloadTooLarge("Audience cannot exceed 10000 members"), 413,
     ["Audience cannot exceed 10000 members"]),
    (HTTPException(401, "Unauthorized"), 401, ["Unauthorized"]),
])
def test_each_error_gets_atoms_status_and_words(exc, status, errors):
    assert answer(exc) == (status, errors)


class CarriedError(Exception):
    """Shaped like the API's own ApiError: a status and (field, message) pairs."""

    def __init__(self) -> None:
        super().__init__("unknown key")
        self.status = 401
        self.errors = [("authorization", "unknown or revoked API key")]
        self.headers = {"WWW-Authenticate": "Bearer"}


def test_an_error_carrying_its_status_keeps_it_and_its_headers():
    response = as_atoms_response(CarriedError())
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert json.loads(bytes(response.body))["errors"] == [
        "authorization: unknown or revoked API key"]


def test_anything_else_is_a_bare_500_and_the_log_keeps_the_phone_out(caplog):
    caplog.set_level(logging.ERROR)
    assert answer(RuntimeError("row (+14155550123) failed")) == (500, ["Internal server error"])
    assert "RuntimeError" in caplog.text and "+14155550123" not in caplog.text
