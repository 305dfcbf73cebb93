"""Organisations: each sees only its own records, within its own channel cap and with
its own DNC list, through the client, the CLI's names and the remote tasks."""

from __future__ import annotations

import pytest
from celery import Celery

from dialer.client import DialerClient
from dialer.errors import NotFound, ValidationError
from dialer.service import orgs
from tests.support.recording import max_overlap, read_ledger
from tests.support.scenario import MONDAY_9AM_NY, campaign_spec, launch, ny_contacts, status_of
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.integration


def test_another_organisations_ids_are_not_found_and_never_listed(two_orgs):
    default, acme = two_orgs
    number = default.add_phone_number("+12125550100")
    audience = default.create_audience("mine", ny_contacts([["answered"]] * 2))
    campaign = default.create_campaign({**campaign_spec(audience.id),
                                        "phone_number_ids": [number.id]})

    for read in (acme.get, acme.participants, acme.calls, acme.events, acme.skips,
                 acme.readiness, acme.forecast, acme.start, acme.pause, acme.stop,
                 acme.delete, acme.reset_breaker):
        with pytest.raises(NotFound) as exc:
            read(campaign.id)
        # Exactly what an unknown id says: nothing tells the two apart.
        with pytest.raises(NotFound) as unknown:
            read("00000000-0000-4000-8000-000000000000")
        assert str(exc.value).replace(campaign.id, "ID") == \
            str(unknown.value).replace("00000000-0000-4000-8000-000000000000", "ID")
    with pytest.raises(NotFound):
        acme.allocate_channels(campaign.id, 2)
    with pytest.raises(NotFound):
        acme.import_contacts(audience.id, "/dev/null")
    with pytest.raises(NotFound):
        acme.set_phone_number_active(number.id, False)

    assert acme.list() == [] and acme.audiences() == [] and acme.phone_numbers() == []
    assert [c.id for c in default.list()] == [campaign.id]
    # A spec naming another organisation's audience or caller ID is refused by field.
    with pytest.raises(ValidationError) as refused:
        acme.create_campaign({**campaign_spec(audience.id), "phone_number_ids": [number.id]})
    assert set(refused.value.fields) == {"audience_id", "phone_number_ids[0]"}
    # Names resolve within the organisation only.
    with pytest.raises(ValidationError) as by_name:
        acme.resolve_references({}, audience="mine", caller_ids=["+12125550100"])
    assert set(by_name.value.fields) == {"audience", "caller_id"}
    # The campaign is untouched by all of the above.
    assert default.get(campaign.id).campaign.status == "draft"


def test_numbers_and_dnc_lists_are_per_organisation(two_orgs):
    default, acme = two_orgs
    # The same caller ID may belong to two organisations (it is unique within one).
    default.add_phone_number("+12125550100")
    acme.add_phone_number("+12125550100")
    with pytest.raises(ValidationError):
        acme.add_phone_number("+12125550100")
    assert default.add_dnc(["+12125550111", "+12125550112"]) == 2
    assert acme.add_dnc(["+12125550111"]) == 1
    assert acme.dnc() == ["+12125550111"]
    assert acme.remove_dnc(["+12125550112"]) == 0
    assert default.dnc() == ["+12125550111", "+12125550112"]


def test_an_unknown_organisation_is_not_found(database_url, redis_url, clean_state):
    with (DialerClient(database_url=database_url, redis_url=redis_url, org="nobody") as client,
          pytest.raises(NotFound, match="nobody")):
        client.list()


def stack_of_two_orgs(make_stack) -> tuple[Stack, DialerClient, DialerClient]:
    """A running stack and the clients of `default` and of `acme`."""
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    default = stack.client()
    orgs.create_org(default.runtime, "acme")
    return stack, default, stack.client(org="acme")


def test_one_organisations_dnc_does_not_block_another(make_stack, clean_state):
    _, default, acme = stack_of_two_orgs(make_stack)
    contacts = ny_contacts([["answered"]] * 2)
    default.add_dnc([contacts[0]["phone"]])

    mine = launch(default, contacts)
    theirs = launch(acme, contacts)
    wait_for(lambda: {status_of(default, mine), status_of(acme, theirs)} == {"completed"},
             timeout_s=60, what="both campaigns completed")

    assert default.get(mine).metrics.by_status.get("skipped_dnc") == 1
    assert acme.get(theirs).metrics.by_status.get("completed") == 2
    dialed = {(e.campaign_id, e.to) for e in read_ledger(clean_state)}
    assert (mine, contacts[0]["phone"]) not in dialed
    assert (theirs, contacts[0]["phone"]) in dialed


def test_one_organisation_cannot_exhaust_anothers_channels(make_stack, clean_state):
    # The deployment's cap (DIALER_ORG_CHANNEL_CAP, default's) is 3; acme has its own 2.
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60, org_channel_cap=3)
    stack.start_worker(concurrency=6)
    stack.start_beat()
    default = stack.client()
    orgs.create_org(default.runtime, "acme", channel_cap=2)
    acme = stack.client(org="acme")
    # default asks for far more than its cap, over two campaigns: it gets 3 at most,
    # and acme still dials with both of its own.
    greedy = [launch(default, ny_contacts([["answered"]] * 12, talk_s=55, start=100 * i),
                     pacing={"channels": 10}) for i in range(2)]
    modest = launch(acme, ny_contacts([["answered"]] * 8, talk_s=55, start=500),
                    pacing={"channels": 5})

    wait_for(lambda: all(status_of(default, c) == "completed" for c in greedy)
             and status_of(acme, modest) == "completed", timeout_s=150,
             what="every campaign completed")
    ledger = read_ledger(clean_state)
    assert len(ledger) == 32
    assert max_overlap(ledger, key=lambda e: e.campaign_id in greedy) == 3
    assert max_overlap(ledger, key=lambda e: e.campaign_id == modest) == 2
    assert max_overlap(ledger) == 5


def test_remote_tasks_act_for_the_organisation_they_name(make_stack, clean_state):
    stack, default, acme = stack_of_two_orgs(make_stack)
    remote = Celery(broker=stack.env["DIALER_BROKER_URL"], set_as_current=False)
    spec = campaign_spec(None, external_id="crm-1")
    spec.pop("audience_id")
    contacts = ny_contacts([["answered"]] * 2)

    # The same external id in two organisations makes two campaigns.
    for org in ("acme", None):
        kwargs = {"spec": spec, "contacts": contacts, "start": False}
        remote.send_task("dialer.enqueue_campaign", kwargs=kwargs if org is None
                         else {**kwargs, "org": org})
    wait_for(lambda: len(acme.list()) == 1 and len(default.list()) == 1, timeout_s=30,
             what="one campaign in each organisation")
    theirs, mine = acme.list()[0].id, default.list()[0].id
    assert theirs != mine

    # A command for acme's campaign sent as default's is refused (not found), and
    # recorded for default, not applied; sent as acme's, it starts it.
    remote.send_task("dialer.campaign_command", kwargs={"campaign_id": theirs,
                                                        "command": "start"})
    wait_for(lambda: any(r.task == "dialer.campaign_command"
                         for r in default.rejected_requests()), timeout_s=30,
             what="the command refused")
    assert status_of(acme, theirs) == "draft"
    assert acme.rejected_requests() == []
    remote.send_task("dialer.campaign_command", kwargs={"campaign_id": theirs,
                                                        "command": "start", "org": "acme"})
    wait_for(lambda: status_of(acme, theirs) == "completed", timeout_s=60,
             what="acme's campaign completed")
    assert status_of(default, mine) == "draft"

    # An organisation that does not exist is named in the refusal.
    remote.send_task("dialer.enqueue_campaign", kwargs={"spec": spec, "org": "nobody"})
    wait_for(lambda: any(["org", "no organisation named 'nobody'"] in r.errors
                         for r in default.rejected_requests()), timeout_s=30,
             what="the unknown organisation refused")


def test_an_external_id_is_unique_within_an_organisation_only(two_orgs):
    default, acme = two_orgs
    spec = {**campaign_spec(default.create_audience("a", ny_contacts([["answered"]])).id),
            "external_id": "crm-7"}
    default.create_campaign(spec)
    with pytest.raises(ValidationError) as exc:
        default.create_campaign(spec)
    assert exc.value.fields == ["external_id"]
    acme.create_campaign({**spec, "audience_id": acme.create_audience(
        "b", ny_contacts([["answered"]])).id})
    assert len(default.list()) == len(acme.list()) == 1
