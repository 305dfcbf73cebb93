"""Caller IDs."""

from __future__ import annotations

from fastapi import APIRouter, Response

from dialer.api import examples as ex
from dialer.api.auth import Client
from dialer.api.errors import responses
from dialer.api.schemas import PhoneNumberIn
from dialer.views import PhoneNumberView

router = APIRouter(prefix="/phone-numbers", tags=["phone numbers"])

REMOVE_ERRORS = responses(404, 409)
REMOVE_ERRORS[409] = {**REMOVE_ERRORS[409],
                      "description": "A scheduled, running or paused campaign lists it"}


@router.post("", status_code=201, response_model=PhoneNumberView,
             summary="Register an outbound caller ID",
             responses={201: ex.ok(ex.PHONE_NUMBER, "Registered"), **responses(400, 413, 422)})
def add_phone_number(body: PhoneNumberIn, client: Client) -> PhoneNumberView:
    return client.add_phone_number(body.number, provider=body.provider, cps=body.cps)


@router.get("", response_model=list[PhoneNumberView], summary="List the caller IDs",
            responses={200: ex.ok([ex.PHONE_NUMBER])})
def phone_numbers(client: Client) -> list[PhoneNumberView]:
    return client.phone_numbers()


@router.delete("/{number_id}", status_code=204, response_class=Response,
               summary="Remove a caller ID (refused while a live campaign lists it)",
               responses=REMOVE_ERRORS)
def remove_phone_number(number_id: str, client: Client) -> Response:
    client.remove_phone_number(number_id)
    return Response(status_code=204)
