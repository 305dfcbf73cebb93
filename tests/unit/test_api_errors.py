"""The HTTP error vocabulary on a bare app: which exception becomes which answer, what
a 500 shows and logs, and the envelope hook another surface (/atoms/) registers."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel

from dialer.api import errors
from dialer.errors import InvalidTransition, NotFound, ValidationError

PHONE = "+12125550123"


class Body(BaseModel):
    count: int
    name: str


def build() -> FastAPI:
    app = FastAPI()
    errors.install(app)
    app.add_middleware(errors.LastResort)

    @app.get("/v1/boom")
    def boom() -> None:
        raise RuntimeError(f"duplicate key (phone)=({PHONE})")

    @app.get("/v1/invalid")
    def invalid() -> None:
        raise ValidationError([("retry.max_retries", "at most 10"), ("name", "required")])

    @app.get("/v1/missing")
    def missing() -> None:
        raise NotFound("campaign 123 not found")

    @app.get("/v1/transition")
    def transition() -> None:
        raise InvalidTransition("cannot pause a campaign that is draft")

    @app.post("/v1/body")
    def body(payload: list[Body]) -> None:
        return None

    @app.get("/atoms/v1/missing")
    def atoms_missing() -> None:
        raise NotFound("x")

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(build(), raise_server_exceptions=False)


def test_a_bug_is_a_bare_500_logged_without_its_message(client, caplog):
    with caplog.at_level(logging.ERROR, logger="dialer.api.errors"):
        response = client.get("/v1/boom")
    assert response.status_code == 500
    assert response.json() == {"errors": [{"field": None, "message": "internal error"}]}
    assert "Traceback" not in response.text and PHONE not in response.text
    assert "RuntimeError" in caplog.text and "/v1/boom" in caplog.text
    assert PHONE not in caplog.text


def test_dialer_errors_map_to_their_status_with_every_field(client):
    invalid = client.get("/v1/invalid")
    assert invalid.status_code == 422
    assert [e["field"] for e in invalid.json()["errors"]] == ["retry.max_retries", "name"]
    missing = client.get("/v1/missing")
    # The id is not echoed: an unknown id and a foreign one read the same.
    assert missing.status_code == 404 and "123" not in missing.text
    assert client.get("/v1/transition").status_code == 409


def test_fastapis_own_validation_is_reshaped_to_dotted_paths(client):
    response = client.post("/v1/body", json=[{"count": "x", "name": "a"}, {"count": 1}])
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"[0].count", "[1].name"}
    assert client.post("/v1/body", json={"not": "a list"}).json()["errors"][0]["field"] == "body"
    malformed = client.post("/v1/body", content=b"[{", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400


def test_a_registered_envelope_shapes_errors_under_its_prefix_only(client):
    def atoms(request, status, items) -> JSONResponse:
        return JSONResponse({"status": False, "errors": [m for _, m in items]}, status_code=status)

    errors.register_envelope("/atoms/", atoms)
    try:
        atoms_answer = client.get("/atoms/v1/missing")
        assert atoms_answer.status_code == 404
        assert atoms_answer.json() == {"status": False, "errors": ["not found"]}
        assert client.get("/v1/missing").json() == {"errors": [{"field": None,
                                                                "message": "not found"}]}
    finally:
        errors._ENVELOPES.pop("/atoms/")


@pytest.mark.parametrize(("loc", "path"), [
    (("body", "retry", "max_retries"), "retry.max_retries"),
    (("body", "contacts", 2, "phone"), "contacts[2].phone"),
    (("query", "status"), "status"), (("body",), None), ((), None),
])
def test_field_paths(loc, path):
    assert errors.field_path(loc) == path
