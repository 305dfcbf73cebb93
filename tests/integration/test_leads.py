"""Leads while campaigns live (issue 14): contacts added to and removed from an audience its
campaigns use, members listed and searched, participants requeued and closed by hand.

The operator's side is the public client; the engine's side (tick, dial, result) runs in
this process against the same PostgreSQL and Redis, so that a test holds a contact at a
chosen point (queued, in flight) without racing a worker.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from dialer.client import DialerClient
from dialer.errors import InvalidTransition, NotFound, ValidationError
from dialer.service.dial import dial
from dialer.service.results import record_result
from dialer.service.runtime import Runtime
from dialer.service.tick import tick
from tests.support.in_process import OPEN_WINDOW, Collector, in_process_runtime
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration


@dataclass
class Desk:
    client: DialerClient
    rt: Runtime
    database_url: str

    @property
    def dials(self) -> list[str]:
        collector = self.rt.dispatcher
        assert isinstance(collector, Collector)
        return collector.dials

    def campaign(self, contacts: int, start: bool = True, **spec: Any) -> tuple[str, str]:
        audience = self.client.create_audience("leads", ny_contacts([["answered"]] * contacts))
        campaign = self.client.create_campaign(campaign_spec(audience.id, **spec))
        if start:
            self.client.start(campaign.id)
        return audience.id, campaign.id

    def contact_ids(self, campaign_id: str) -> list[int]:
        return sorted(p.contact_id for p in self.client.participants(campaign_id))

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.rt.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))

    def execute(self, sql: str, **params: Any) -> None:
        with self.rt.engine.begin() as conn:
            conn.execute(sa.text(sql), params)

    def participant(self, campaign_id: str, contact_id: int) -> Any:
        [row] = self.rows("SELECT status, attempts, cycle, skip_reason, next_attempt_at, "
                          "phone_index, phone_attempts FROM participants "
                          "WHERE campaign_id = :c AND contact_id = :k", c=campaign_id,
                          k=contact_id)
        return row

    def events(self, campaign_id: str, action: str) -> list[Any]:
        return [e for e in self.client.events(campaign_id) if e.action == action]


@pytest.fixture
def desk(clean_state, database_url: str, redis_url: str) -> Iterator[Desk]:
    origin = f"{OPEN_WINDOW.isoformat()}@{time.time()}"
    rt = in_process_runtime(database_url, redis_url, origin)
    with DialerClient(database_url=database_url, redis_url=redis_url,
                      time_origin=origin) as client:
        yield Desk(client, rt, database_url)
    rt.close()


def more(start: int, n: int) -> list[dict[str, Any]]:
    return ny_contacts([["answered"]] * n, start=start)


# -- adding ---------------------------------------------------------------------------------


def test_contacts_added_to_an_audience_join_every_campaign_that_has_not_finished(desk):
    audience_id, running = desk.campaign(2)
    draft = desk.client.create_campaign(campaign_spec(audience_id)).id
    paused = desk.client.create_campaign(campaign_spec(audience_id)).id
    desk.client.start(paused)
    desk.client.pause(paused)
    stopped = desk.client.create_campaign(campaign_spec(audience_id)).id
    desk.client.stop(stopped)

    added = desk.client.add_contacts(audience_id, [
        *more(10, 2),
        {"phone": "+12125550000"},            # the audience has it already
        {"phone": "12345"},                   # not a number
        {"phone": "+12125550010"},            # repeated in this request
        {"phone": "+12125550099", "bogus": 1},
    ])
    assert added.count == 2 and added.id == audience_id
    assert [(r.index, r.error.split(":")[0]) for r in added.rejected] == [
        (2, "duplicate phone in this audience"), (3, "phone"),
        (4, "duplicate phone in this audience"), (5, "unknown field(s)")]
    assert desk.client.audience(audience_id).count == 4
    for campaign_id in (running, draft, paused):
        assert len(desk.client.participants(campaign_id)) == 4
        new = [p for p in desk.client.participants(campaign_id) if p.phone.endswith("0010")]
        assert new[0].status == "pending" and new[0].attempts == 0
        assert new[0].next_attempt_at <= desk.client.now()
        [event] = desk.events(campaign_id, "contacts_added")
        assert event.detail == "2 contacts" and event.source == "api"
        assert "+1" not in event.detail
    assert len(desk.client.participants(stopped)) == 2
    assert desk.events(stopped, "contacts_added") == []

    # The running campaign dials them at its next tick.
    tick(desk.rt)
    assert len(desk.dials) == 4


def test_add_contacts_is_checked_whole_and_scoped_to_the_organisation(two_orgs):
    default, acme = two_orgs
    audience = default.create_audience("mine", ny_contacts([["answered"]]))
    with pytest.raises(ValidationError) as bad:
        default.add_contacts(audience.id, {"phone": "+12125550001"})  # type: ignore[arg-type]
    assert bad.value.fields == ["contacts"]
    with pytest.raises(NotFound):
        acme.add_contacts(audience.id, more(5, 1))
    with pytest.raises(NotFound):
        default.add_contacts("not-an-id", more(5, 1))
    assert default.audience(audience.id).count == 1


def test_contacts_added_through_a_campaign_and_refused_once_it_has_finished(desk):
    audience_id, campaign_id = desk.campaign(1)
    added = desk.client.add_campaign_contacts(campaign_id, more(20, 3))
    assert added.count == 3 and added.id == audience_id
    assert len(desk.client.participants(campaign_id)) == 4
    desk.client.stop(campaign_id)
    with pytest.raises(InvalidTransition):
        desk.client.add_campaign_contacts(campaign_id, more(30, 1))
    assert desk.client.audience(audience_id).count == 4
    with pytest.raises(NotFound):
        desk.client.add_campaign_contacts("00000000-0000-0000-0000-000000000000", more(30, 1))


def test_contacts_added_through_a_campaign_being_stopped_are_refused(desk, tmp_path):
    """The campaign's status is checked under its row lock: an addition waits for a stop
    in progress and is then refused, a list of contacts as a CSV file."""
    import threading

    from dialer.service.steps.campaign_commands import stop
    from tests.support.stack import wait_for

    path = tmp_path / "more.csv"
    path.write_text("phone\n+12125550070\n")
    errors: list[Exception] = []
    for kind in ("contacts", "csv"):
        audience_id, campaign_id = desk.campaign(1)

        def add(kind: str = kind, campaign_id: str = campaign_id) -> None:
            try:
                if kind == "csv":
                    desk.client.add_campaign_contacts_csv(campaign_id, path)
                else:
                    desk.client.add_campaign_contacts(campaign_id, more(20, 1))
            except Exception as exc:  # checked below, in the test's thread
                errors.append(exc)

        with desk.rt.transaction() as session:
            stop(session, campaign_id, now=desk.client.now(), source="api")
            adder = threading.Thread(target=add)
            adder.start()
            wait_for(lambda t=adder: _blocked_or_done(desk, t), timeout_s=10,
                     what=f"the addition ({kind}) waiting for the stop, or done")
        adder.join(30)
        assert desk.client.audience(audience_id).count == 1, kind
    assert [type(e) for e in errors] == [InvalidTransition, InvalidTransition], errors
    assert all("stopped" in str(e) for e in errors)


def test_a_csv_import_into_a_used_audience_enrols_and_brings_back_removed_contacts(desk,
                                                                                  tmp_path):
    audience_id, campaign_id = desk.campaign(3)
    first = desk.contact_ids(campaign_id)[0]
    assert desk.client.remove_audience_members(audience_id, [first]) == 1
    path = tmp_path / "more.csv"
    path.write_text("phone,name\n+12125550000,back\n+12125550001,dup\n+12125550050,new\n")
    report = desk.client.import_contacts(audience_id, path)
    assert report.imported == 2
    assert [(r.row, r.error) for r in report.rejected] == [
        (3, "duplicate phone in this audience")]
    assert desk.participant(campaign_id, first).status == "pending"
    assert len(desk.client.participants(campaign_id)) == 4
    [event] = desk.events(campaign_id, "contacts_added")
    assert event.detail == "2 contacts"
    names = {m.phone: m.name for m in desk.client.audience_members(audience_id).members}
    assert names["+12125550000"] == "back"


# -- removing -------------------------------------------------------------------------------


def test_removed_contacts_are_hidden_kept_and_their_undialed_participants_canceled(desk):
    audience_id, campaign_id = desk.campaign(4, pacing={"channels": 2})
    ids = desk.contact_ids(campaign_id)
    tick(desk.rt)  # contacts 0 and 1 queued
    queued, in_flight = desk.dials
    assert dial(desk.rt, in_flight) == "placed"
    [(dialing_contact,)] = desk.rows("SELECT contact_id FROM calls WHERE id = :id", id=in_flight)
    [(queued_contact,)] = desk.rows("SELECT contact_id FROM calls WHERE id = :id", id=queued)
    waiting = next(i for i in ids if i not in (dialing_contact, queued_contact))

    removed = desk.client.remove_audience_members(
        audience_id, [str(queued_contact), dialing_contact, waiting, "x", 999999])
    assert removed == 3
    # Hidden from every member read, kept in the database with their history.
    assert desk.client.audience(audience_id).count == 1
    assert [a.count for a in desk.client.audiences()] == [1]
    page = desk.client.audience_members(audience_id)
    assert page.total == 1 and len(page.members) == 1
    assert desk.client.search_audience_members(audience_id, query="555") == page.members
    assert desk.rows("SELECT count(*) FROM contacts")[0][0] == 4
    # Undialed ones canceled, the queued call withdrawn and its attempt uncounted.
    for contact_id in (queued_contact, waiting):
        row = desk.participant(campaign_id, contact_id)
        assert (row.status, row.skip_reason, row.attempts) == ("canceled", "removed", 0)
    assert desk.rows("SELECT count(*) FROM calls WHERE id = :id", id=queued)[0][0] == 0
    assert dial(desk.rt, queued) != "placed"
    [event] = desk.events(campaign_id, "contacts_removed")
    assert event.detail == "3 contacts removed from the audience, 2 not yet dialed canceled"
    # The call in progress finishes and counts; its retry is never dialed.
    assert desk.participant(campaign_id, dialing_contact).status == "dialing"
    assert record_result(desk.rt, in_flight, outcome="no_answer") == "recorded"
    assert desk.participant(campaign_id, dialing_contact).status == "retry_scheduled"
    desk.execute("UPDATE participants SET next_attempt_at = next_attempt_at - interval '1 day'"
                 " WHERE status = 'retry_scheduled'")
    before = len(desk.dials)
    tick(desk.rt)
    after = desk.participant(campaign_id, dialing_contact)
    assert (after.status, after.skip_reason) == ("canceled", "removed")
    dialed_now = {desk.rows("SELECT contact_id FROM calls WHERE id = :id", id=c)[0][0]
                  for c in desk.dials[before:]}
    assert dialing_contact not in dialed_now
    assert [c.outcome for c in desk.client.calls(campaign_id)
            if c.contact_id == dialing_contact] == ["no_answer"]

    # Added again: back, and dialed afresh.
    again = desk.client.add_contacts(audience_id, ny_contacts([["answered"]], start=0))
    assert again.count == 1 and not again.rejected
    contact_0 = desk.rows("SELECT id FROM contacts WHERE phone = '+12125550000'")[0][0]
    row = desk.participant(campaign_id, contact_0)
    assert (row.status, row.attempts, row.skip_reason) == ("pending", 0, None)


def test_removed_contacts_are_not_enrolled_by_new_campaigns(desk):
    audience_id, _ = desk.campaign(3, start=False)
    gone = desk.client.audience_members(audience_id).members[0].id
    desk.client.remove_audience_members(audience_id, [gone])
    campaign = desk.client.create_campaign(campaign_spec(audience_id))
    assert gone not in desk.contact_ids(campaign.id)
    assert len(desk.contact_ids(campaign.id)) == 2


def test_members_are_paged_and_searched_in_sql(desk):
    zoe = {"phone": "+12125559999", "name": "Zoë", "attributes": {"plan": "silver"}}
    audience = desk.client.create_audience("page", [
        *ny_contacts([["answered"]] * 7, plan="gold"), zoe])
    page = desk.client.audience_members(audience.id, page=2, limit=3)
    assert page.total == 8 and [m.name for m in page.members] == ["c3", "c4", "c5"]
    found = desk.client.audience_members(audience.id, page=1, limit=2, search="SILVER")
    assert found.total == 1 and [m.name for m in found.members] == ["Zoë"]
    gold = desk.client.audience_members(audience.id, page=2, limit=5, search="gold")
    assert gold.total == 7 and len(gold.members) == 2


# -- requeue and close ----------------------------------------------------------------------


def test_a_failed_participant_requeued_is_dialed_again_from_attempt_one(desk):
    _, campaign_id = desk.campaign(2, pacing={"channels": 1}, retry={"max_retries": 0})
    contact_id, _ = desk.contact_ids(campaign_id)
    tick(desk.rt)
    [call_id] = desk.dials
    assert dial(desk.rt, call_id) == "placed"
    with pytest.raises(InvalidTransition, match="call in progress"):
        desk.client.requeue_participants(campaign_id, [contact_id])
    record_result(desk.rt, call_id, outcome="busy")
    assert desk.participant(campaign_id, contact_id).status == "failed"

    assert desk.client.requeue_participants(campaign_id, [contact_id, contact_id]) == 1
    row = desk.participant(campaign_id, contact_id)
    assert (row.status, row.attempts, row.cycle, row.phone_index, row.phone_attempts) == \
        ("pending", 0, 1, 0, 0)
    [event] = desk.events(campaign_id, "requeued")
    assert (event.detail, event.source) == ("1 contacts", "api")
    # The other contact's call (queued when the channel came free) goes first.
    [other_call] = desk.dials[1:]
    assert dial(desk.rt, other_call) == "placed"
    record_result(desk.rt, other_call, outcome="answered")
    tick(desk.rt)
    again = desk.dials[-1]
    assert dial(desk.rt, again) == "placed"
    assert desk.rows("SELECT contact_id, attempt, cycle FROM calls WHERE id = :id",
                     id=again) == [(contact_id, 1, 1)]
    record_result(desk.rt, again, outcome="answered")
    assert desk.participant(campaign_id, contact_id).status == "completed"
    assert desk.client.get(campaign_id).campaign.status == "completed"


def test_requeue_and_close_are_refused_whole_when_they_make_no_sense(desk):
    audience_id, campaign_id = desk.campaign(3)
    ids = desk.contact_ids(campaign_id)
    for bad, fields in (([], ["contact_ids"]), ("1", ["contact_ids"]),
                        ([ids[0], True, "2"], ["contact_ids[1]", "contact_ids[2]"])):
        with pytest.raises(ValidationError) as refused:
            desk.client.close_participants(campaign_id, bad)
        assert refused.value.fields == fields
    with pytest.raises(ValidationError) as unknown:
        desk.client.requeue_participants(campaign_id, [ids[0], 987654])
    assert unknown.value.fields == ["contact_ids"] and "987654" in str(unknown.value)
    desk.client.remove_audience_members(audience_id, [ids[2]])
    with pytest.raises(InvalidTransition, match="removed"):
        desk.client.requeue_participants(campaign_id, [ids[0], ids[2]])
    assert desk.participant(campaign_id, ids[0]).status == "pending"  # nothing half-done
    with pytest.raises(NotFound):
        desk.client.close_participants("00000000-0000-0000-0000-000000000000", [ids[0]])
    desk.client.stop(campaign_id)
    with pytest.raises(InvalidTransition, match="stopped"):
        desk.client.requeue_participants(campaign_id, [ids[0]])
    assert desk.events(campaign_id, "requeued") == desk.events(campaign_id, "closed") == []


def test_closed_contacts_are_not_dialed_and_the_campaign_completes(desk):
    _, campaign_id = desk.campaign(2, pacing={"channels": 1})
    ids = desk.contact_ids(campaign_id)
    tick(desk.rt)
    [queued] = desk.dials
    # A queued call nobody claimed yet is withdrawn; a paused campaign can be closed too.
    desk.client.pause(campaign_id)
    desk.client.resume(campaign_id)
    tick(desk.rt)
    [_, queued] = desk.dials
    assert desk.client.close_participants(campaign_id, ids) == 2
    assert desk.rows("SELECT count(*) FROM calls")[0][0] == 0
    for contact_id in ids:
        row = desk.participant(campaign_id, contact_id)
        assert (row.status, row.skip_reason, row.attempts) == ("completed", "closed", 0)
    [event] = desk.events(campaign_id, "closed")
    assert event.detail == "2 contacts"
    assert dial(desk.rt, queued) != "placed"
    report = tick(desk.rt)
    assert report.completed == [campaign_id]
    assert desk.client.get(campaign_id).campaign.status == "completed"
    with pytest.raises(InvalidTransition, match="completed"):
        desk.client.requeue_participants(campaign_id, ids)


def test_a_requeue_on_a_paused_campaign_waits_for_resume(desk):
    _, campaign_id = desk.campaign(1)
    [contact_id] = desk.contact_ids(campaign_id)
    desk.client.close_participants(campaign_id, [contact_id])
    desk.client.pause(campaign_id)
    assert desk.client.requeue_participants(campaign_id, [contact_id]) == 1
    tick(desk.rt)
    assert desk.dials == []
    desk.client.resume(campaign_id)
    tick(desk.rt)
    assert len(desk.dials) == 1


def test_a_new_cycle_dials_the_audience_as_it_is_then(desk):
    audience_id, campaign_id = desk.campaign(4, pacing={"channels": 4},
                                             schedule={"recurrence": "daily"})
    ids = desk.contact_ids(campaign_id)
    desk.client.close_participants(campaign_id, [ids[0]])
    desk.client.remove_audience_members(audience_id, [ids[1]])
    tick(desk.rt)
    assert len(desk.dials) == 2
    for call_id in desk.dials:
        assert dial(desk.rt, call_id) == "placed"
        record_result(desk.rt, call_id, outcome="answered")
    tick(desk.rt)
    assert desk.client.get(campaign_id).campaign.status == "scheduled"
    cycle = {c: desk.participant(campaign_id, c) for c in ids}
    assert (cycle[ids[0]].status, cycle[ids[0]].skip_reason) == ("completed", "closed")
    assert (cycle[ids[1]].status, cycle[ids[1]].skip_reason) == ("canceled", "removed")
    assert [(cycle[c].status, cycle[c].cycle) for c in ids[2:]] == [("pending", 1)] * 2
    # A member that is not a participant yet (stored by an older version, which enrolled
    # at creation only) joins at the next cycle; the run is cut short by hand here.
    desk.execute("INSERT INTO contacts (audience_id, phone, attributes, secondary_phones) "
                 "VALUES (:a, '+12125550077', '{}', '[]')", a=audience_id)
    desk.execute("UPDATE participants SET status = 'completed' "
                 "WHERE campaign_id = :c AND status = 'pending'", c=campaign_id)
    desk.execute("UPDATE campaigns SET status = 'running' WHERE id = :c", c=campaign_id)
    tick(desk.rt)
    assert desk.client.get(campaign_id).campaign.status == "scheduled"
    assert len(desk.client.participants(campaign_id)) == 5


def test_a_requeue_refuses_a_call_in_flight_without_waiting_for_its_result(desk):
    """The result path holds the call, then the participant, then wants the campaign; a
    requeue holding the campaign must not wait for the participant (a deadlock)."""
    import threading

    from tests.support.stack import wait_for

    _, campaign_id = desk.campaign(1)
    [contact_id] = desk.contact_ids(campaign_id)
    tick(desk.rt)
    [call_id] = desk.dials
    assert dial(desk.rt, call_id) == "placed"
    errors: list[Exception] = []

    def steer(verb: str) -> None:
        try:
            getattr(desk.client, f"{verb}_participants")(campaign_id, [contact_id])
        except Exception as exc:  # checked below, in the test's thread
            errors.append(exc)

    with desk.rt.engine.begin() as result_path:
        result_path.execute(sa.text("SELECT 1 FROM calls WHERE id = :id FOR UPDATE"),
                            {"id": call_id})
        result_path.execute(sa.text("SELECT 1 FROM participants WHERE campaign_id = :c "
                                    "FOR UPDATE"), {"c": campaign_id})
        for verb in ("requeue", "close"):
            steering = threading.Thread(target=steer, args=(verb,))
            steering.start()
            wait_for(lambda t=steering: _blocked_or_done(desk, t), timeout_s=10,
                     what=f"the {verb} answering or waiting")
            assert not steering.is_alive(), f"the {verb} waits for the participant's lock"
    steering.join(30)
    assert [type(e) for e in errors] == [InvalidTransition, InvalidTransition]
    assert all("call in progress" in str(e) for e in errors)


def test_a_late_result_does_not_complete_a_contact_requeued_meanwhile(desk):
    """The late result waits for the campaign's row the requeue holds; it then corrects
    its call but leaves the requeued contact (a new cycle) to be dialed again."""
    import threading

    from dialer.service.results import DEADLINE_DETAIL
    from dialer.service.steps import leads
    from dialer.service.steps.campaign_state import load_campaign
    from tests.support.stack import wait_for

    _, campaign_id = desk.campaign(2, pacing={"channels": 1}, retry={"max_retries": 0})
    contact_id, _ = desk.contact_ids(campaign_id)
    tick(desk.rt)
    [call_id] = desk.dials
    assert dial(desk.rt, call_id) == "placed"
    assert record_result(desk.rt, call_id, outcome="failed",
                         detail=DEADLINE_DETAIL) == "recorded"
    assert desk.participant(campaign_id, contact_id).status == "failed"
    answers: list[str] = []
    with desk.rt.transaction() as session:
        leads.requeue(session, load_campaign(session, campaign_id, lock=True), [contact_id],
                      now=desk.client.now(), source="api")
        late = threading.Thread(target=lambda: answers.append(record_result(
            desk.rt, call_id, outcome="answered", goal_achieved=True)))
        late.start()
        wait_for(lambda: _blocked_or_done(desk, late), timeout_s=10,
                 what="the late result waiting for the requeue, or done")
    late.join(30)
    assert answers == ["reconciled"]
    row = desk.participant(campaign_id, contact_id)
    assert (row.status, row.cycle, row.attempts) == ("pending", 1, 0)
    [event] = desk.events(campaign_id, "result_reconciled")
    assert "requeued" in event.detail


# -- remote control ---------------------------------------------------------------------------


def test_remote_commands_steer_leads_once_per_task_id(desk):
    from dialer.service import remote

    _, campaign_id = desk.campaign(2)
    ids = desk.contact_ids(campaign_id)
    answer = remote.campaign_command(desk.rt, campaign_id, "close",
                                     {"contact_ids": [ids[0]]}, command_id="task-1")
    assert answer["ok"] is True
    again = remote.campaign_command(desk.rt, campaign_id, "close",
                                    {"contact_ids": [ids[0]]}, command_id="task-1")
    assert again["error"] == "AlreadyApplied"
    assert remote.campaign_command(desk.rt, campaign_id, "requeue", {"contact_ids": [ids[0]]},
                                   command_id="task-2")["ok"] is True
    added = remote.campaign_command(desk.rt, campaign_id, "add_contacts", {
        "contacts": [*more(40, 1), {"phone": "nope"}]}, command_id="task-3")
    assert (added["ok"], added["added"], added["rejected"]) == (True, 1, 1)
    assert len(desk.client.participants(campaign_id)) == 3
    refused = remote.campaign_command(desk.rt, campaign_id, "requeue",
                                      {"contact_ids": [424242]}, command_id="task-4")
    assert refused["error"] == "ValidationError"
    rejected = desk.client.rejected_requests()
    assert [r.task for r in rejected] == ["dialer.campaign_command"] * 2
    assert "+1" not in str([r.model_dump() for r in rejected])
    sources = {e.source for e in desk.client.events(campaign_id)
               if e.action in ("closed", "requeued", "contacts_added")}
    assert sources == {"api"}


def test_a_remote_remove_contacts_takes_them_out_of_the_audience_or_refuses_whole(desk):
    from dialer.service import remote

    audience_id, campaign_id = desk.campaign(4, pacing={"channels": 1})
    ids = desk.contact_ids(campaign_id)
    _, other_campaign = desk.campaign(1, start=False)
    [stranger] = desk.contact_ids(other_campaign)  # another audience's contact
    tick(desk.rt)
    [in_flight] = desk.dials
    assert dial(desk.rt, in_flight) == "placed"
    [(dialing,)] = desk.rows("SELECT contact_id FROM calls WHERE id = :id", id=in_flight)
    waiting = [i for i in ids if i != dialing]

    # Ids that are no current members of the campaign's audience: named, nothing removed.
    details = []
    for bad in ([waiting[0], stranger, 424242], [waiting[0], "7"]):
        refused = remote.campaign_command(desk.rt, campaign_id, "remove_contacts",
                                          {"contact_ids": bad})
        assert refused["ok"] is False and refused["error"] == "ValidationError", refused
        details.append(refused["detail"])
    assert details[0].startswith("contact_ids: not current members of the campaign's audience")
    assert details[0].endswith(f": {stranger}, 424242")
    assert details[1].startswith("contact_ids[1]: ")
    assert [r.task for r in desk.client.rejected_requests()] == ["dialer.campaign_command"] * 2
    assert desk.client.audience(audience_id).count == 4
    assert {p.status for p in desk.client.participants(campaign_id)} == {"pending", "dialing"}

    answer = remote.campaign_command(desk.rt, campaign_id, "remove_contacts",
                                     {"contact_ids": [dialing, waiting[0], waiting[0]]},
                                     command_id="task-1")
    assert answer == {"ok": True, "campaign_id": campaign_id, "removed": 2}
    again = remote.campaign_command(desk.rt, campaign_id, "remove_contacts",
                                    {"contact_ids": [dialing, waiting[0]]}, command_id="task-1")
    assert again["error"] == "AlreadyApplied"
    # As remove_audience_members: hidden, history kept, the undialed one canceled, the
    # call in flight left to finish.
    assert desk.client.audience(audience_id).count == 2
    row = desk.participant(campaign_id, waiting[0])
    assert (row.status, row.skip_reason) == ("canceled", "removed")
    assert desk.participant(campaign_id, dialing).status == "dialing"
    [event] = desk.events(campaign_id, "contacts_removed")
    assert (event.source, event.detail) == (
        "api", "2 contacts removed from the audience, 1 not yet dialed canceled")
    # Removed already: no current member either.
    gone = remote.campaign_command(desk.rt, campaign_id, "remove_contacts",
                                   {"contact_ids": [waiting[0]]})
    assert gone["error"] == "ValidationError" and "removed already" in gone["detail"]

    desk.client.stop(campaign_id)
    ended = remote.campaign_command(desk.rt, campaign_id, "remove_contacts",
                                    {"contact_ids": [waiting[1]]})
    assert ended["error"] == "InvalidTransition"
    assert ended["detail"] == "cannot remove contacts from a campaign that is stopped"
    assert desk.client.audience(audience_id).count == 2


# -- beside the tick ------------------------------------------------------------------------


def test_contacts_added_while_the_tick_completes_the_campaign_are_not_stranded(desk):
    """The tick saw no open participant, then waits for the campaign's lock that an
    addition holds: once it has it, it asks again and leaves the campaign running."""
    import threading

    from dialer.service.steps import leads
    from dialer.store import audiences
    from tests.support.in_process import waiting_on_locks
    from tests.support.stack import wait_for

    audience_id, campaign_id = desk.campaign(1)
    desk.client.close_participants(campaign_id, desk.contact_ids(campaign_id))
    org_id = desk.client.org.id
    locked, go = threading.Event(), threading.Event()

    def add_and_hold() -> None:
        with desk.rt.transaction() as session:
            audience = audiences.find(session, audience_id, org_id=org_id)
            assert audience is not None
            leads.add_contacts(session, audience, more(50, 2), now=desk.rt.clock.now(),
                               default_region=None, source="api")
            locked.set()
            assert go.wait(30), "the test never let the addition commit"

    adder = threading.Thread(target=add_and_hold)
    adder.start()
    assert locked.wait(30)
    reports: list[Any] = []
    ticker = threading.Thread(target=lambda: reports.append(tick(desk.rt)))
    ticker.start()
    # The tick dispatches nothing (the campaign is locked: SKIP LOCKED) and then waits
    # for the lock to complete the campaign.
    wait_for(lambda: waiting_on_locks(desk.database_url, "transactionid", "tuple"),
             timeout_s=10, what="the tick waiting for the campaign's lock")
    go.set()
    adder.join(30)
    ticker.join(30)
    assert reports and reports[0].completed == []
    assert desk.client.get(campaign_id).campaign.status == "running"
    assert len(desk.client.participants(campaign_id)) == 3
    tick(desk.rt)
    assert len(desk.dials) == 2


def test_two_additions_of_one_phone_at_once_store_it_once(desk):
    import threading

    audience_id, campaign_id = desk.campaign(1)
    answers: list[Any] = []
    barrier = threading.Barrier(2)

    def add() -> None:
        barrier.wait(10)
        answers.append(desk.client.add_contacts(audience_id, more(60, 3)))

    threads = [threading.Thread(target=add) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(a.count for a in answers) == [0, 3]
    assert sorted(len(a.rejected) for a in answers) == [0, 3]
    assert desk.client.audience(audience_id).count == 4
    assert len(desk.client.participants(campaign_id)) == 4


# -- beside campaign creation and a run's progress --------------------------------------------


def _blocked_or_done(desk: Desk, thread: Any) -> bool:
    from tests.support.in_process import waiting_on_locks
    return not thread.is_alive() or waiting_on_locks(desk.database_url, "transactionid",
                                                     "tuple")


def test_a_contact_added_while_a_campaign_is_being_created_joins_it(desk):
    """The creation holds its audience's row (FOR SHARE) until it commits: an addition
    waits for it, then finds the new campaign and enrols the contact in it."""
    import threading

    from dialer.service.steps.campaign_creation import create_campaign
    from tests.support.stack import wait_for

    audience_id, _ = desk.campaign(1, start=False)
    answers: list[Any] = []
    with desk.rt.transaction() as session:
        new_id = create_campaign(session, campaign_spec(audience_id),
                                 org_id=desk.client.org.id, now=desk.client.now(),
                                 source="api").id
        adder = threading.Thread(
            target=lambda: answers.append(desk.client.add_contacts(audience_id, more(40, 1))))
        adder.start()
        wait_for(lambda: _blocked_or_done(desk, adder), timeout_s=10,
                 what="the addition waiting for the creation, or done")
    adder.join(30)
    assert [a.count for a in answers] == [1]
    assert len(desk.client.participants(new_id)) == desk.client.audience(audience_id).count == 2


def test_a_contact_added_while_a_draft_moves_to_its_audience_joins_it(desk):
    import threading

    from dialer.service.steps.campaign_editing import update_campaign
    from tests.support.stack import wait_for

    _, draft_id = desk.campaign(1, start=False)
    other = desk.client.create_audience("other", more(30, 2)).id
    answers: list[Any] = []
    with desk.rt.transaction() as session:
        update_campaign(session, draft_id, {"audience_id": other}, now=desk.client.now(),
                        source="api")
        adder = threading.Thread(
            target=lambda: answers.append(desk.client.add_contacts(other, more(40, 1))))
        adder.start()
        wait_for(lambda: _blocked_or_done(desk, adder), timeout_s=10,
                 what="the addition waiting for the edit, or done")
    adder.join(30)
    assert [a.count for a in answers] == [1]
    assert len(desk.client.participants(draft_id)) == 3


def _run_to_the_end(desk: Desk, rounds: int = 8) -> None:
    done: set[str] = set()
    for _ in range(rounds):
        tick(desk.rt)
        for call_id in [c for c in desk.dials if c not in done]:
            done.add(call_id)
            if dial(desk.rt, call_id) == "placed":
                record_result(desk.rt, call_id, outcome="answered", goal_achieved=True)
        # Retries due at once (on the dialer's clock, not the database's).
        desk.execute("UPDATE participants SET next_attempt_at = :now "
                     "WHERE next_attempt_at IS NOT NULL", now=desk.client.now())
        desk.execute("UPDATE campaigns SET next_free_slot_at = NULL")


def _the_run(desk: Desk, campaign_id: str) -> tuple[int, int, float]:
    run = desk.client.execution_summary(campaign_id).executions[-1]
    view = desk.client.get(campaign_id).campaign.executions[-1]
    assert (view.total_members, view.processed_members) == (run.total_members,
                                                            run.processed_members)
    return run.total_members, run.processed_members, run.progress_pct


def test_contacts_added_while_a_campaign_runs_count_in_its_run_s_progress(desk):
    _, campaign_id = desk.campaign(3, pacing={"channels": 2})
    tick(desk.rt)
    for call_id in list(desk.dials):
        assert dial(desk.rt, call_id) == "placed"
        record_result(desk.rt, call_id, outcome="answered", goal_achieved=True)
    desk.client.add_campaign_contacts(campaign_id, more(20, 3))
    assert _the_run(desk, campaign_id) == (6, 2, 33.3)
    _run_to_the_end(desk)
    assert desk.client.get(campaign_id).campaign.status == "completed"
    assert _the_run(desk, campaign_id) == (6, 6, 100.0)


def test_contacts_requeued_count_again_in_the_run_s_progress(desk):
    _, campaign_id = desk.campaign(3, pacing={"channels": 1})
    first, _, third = desk.contact_ids(campaign_id)
    tick(desk.rt)
    [call_id] = desk.dials
    assert dial(desk.rt, call_id) == "placed"
    record_result(desk.rt, call_id, outcome="answered", goal_achieved=True)
    assert _the_run(desk, campaign_id) == (3, 1, 33.3)
    desk.client.requeue_participants(campaign_id, [first])
    assert _the_run(desk, campaign_id)[:2] == (4, 1)
    desk.client.requeue_participants(campaign_id, [first])  # still open: counted once
    desk.client.requeue_participants(campaign_id, [third])  # not dialed yet: counted
    assert _the_run(desk, campaign_id)[:2] == (4, 1)
    _run_to_the_end(desk, rounds=12)
    assert desk.client.get(campaign_id).campaign.status == "completed"
    assert _the_run(desk, campaign_id) == (4, 4, 100.0)


def test_a_contact_requeued_before_its_call_counts_once_in_a_resumed_run(desk):
    _, campaign_id = desk.campaign(2, pacing={"channels": 1})
    _, second = desk.contact_ids(campaign_id)
    tick(desk.rt)
    [call_id] = desk.dials
    assert dial(desk.rt, call_id) == "placed"
    record_result(desk.rt, call_id, outcome="answered", goal_achieved=True)
    desk.client.pause(campaign_id)
    desk.client.resume(campaign_id)  # a new run: the one contact still open
    assert _the_run(desk, campaign_id)[:2] == (1, 0)
    desk.client.requeue_participants(campaign_id, [second])
    assert _the_run(desk, campaign_id)[:2] == (1, 0)
    _run_to_the_end(desk)
    assert desk.client.get(campaign_id).campaign.status == "completed"
    assert _the_run(desk, campaign_id) == (1, 1, 100.0)
