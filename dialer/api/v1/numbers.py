"""Caller IDs."""

from __future__ import annotations

from fastapi import APIRouter

from dialer.api import examples as ex
from dialer.api.auth import Client
from dialer.api.errors import responses
from dialer.api.schemas import PhoneNumberIn
from dialer.views import PhoneNumberView

router = APIRouter(prefix="/phone-numbers", tags=["phone numbers"])


@router.post("", status_code=201, response_model=PhoneNumberView,
             summary="Register an outbound caller ID",
             responses={201: ex.ok(ex.PHONE_NUMBER, "Registered"), **responses(400, 413, 422)})
def add_phone_number(body: PhoneNumberIn, client: Client) -> PhoneNumberView:
    return client.add_phone_number(body.number, provider=body.provider, cps=body.cps)


@router.get("", response_model=list[PhoneNumberView], summary="List the caller IDs",
            responses={200: ex.ok([ex.PHONE_NUMBER])})
def phone_numbers(client: Client) -> list[PhoneNumberView]:
    return client.phone_numbers()
