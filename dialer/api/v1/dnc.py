"""The organisation's do-not-call list."""

from __future__ import annotations

from fastapi import APIRouter

from dialer.api import examples as ex
from dialer.api.auth import Client
from dialer.api.errors import responses
from dialer.api.schemas import DncChange, NumbersIn

router = APIRouter(prefix="/dnc", tags=["do not call"])
ERRORS = responses(400, 413, 422)


@router.get("", response_model=list[str], summary="List the do-not-call numbers",
            responses={200: ex.ok(["+14155550123"])})
def dnc(client: Client) -> list[str]:
    return client.dnc()


@router.post("", response_model=DncChange, summary="Add numbers to the do-not-call list",
             responses={200: ex.ok({"changed": 2}), **ERRORS})
def add_dnc(body: NumbersIn, client: Client) -> DncChange:
    return DncChange(changed=client.add_dnc(body.numbers))


@router.delete("", response_model=DncChange,
               summary="Remove numbers from the do-not-call list",
               responses={200: ex.ok({"changed": 1}), **ERRORS})
def remove_dnc(body: NumbersIn, client: Client) -> DncChange:
    return DncChange(changed=client.remove_dnc(body.numbers))
