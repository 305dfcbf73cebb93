"""The official Atoms SDK (``smallestai``), unchanged, against our /atoms/v1: a real
uvicorn over a real socket, real Celery worker and beat, the simulated provider, the
clock sped up 60 times. What a program written for Atoms does, end to end."""

from __future__ import annotations

import httpx
import pytest
from smallestai import SmallestAI, SmallestAIEnvironment
from smallestai.atoms.helpers import Audience, Campaign
from smallestai.core.api_error import ApiError

from tests.support.atoms_server import api_server, make_tenant
from tests.support.scenario import MONDAY_9AM_NY
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration

# Per contact: its outcomes, one per attempt (the simulated provider reads the column).
SCRIPTS = [["answered"]] * 5 + [["no_answer", "answered"]] * 4 + [["busy", "busy"]] * 3


def leads_csv() -> bytes:
    rows = ["firstName,phoneNumber,sim_outcomes,sim_ring_s,sim_duration_s"]
    rows += [f"Lead{i},+1212555{100 + i:04d},{';'.join(s)},5,40" for i, s in enumerate(SCRIPTS)]
    return ("\n".join(rows) + "\n").encode()


def test_the_official_sdk_runs_a_campaign_to_completion(make_stack):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60, provider="simulated")
    stack.start_worker(concurrency=2)
    stack.start_beat()
    tenant = make_tenant(stack.client(), "acme")
    caller_id = tenant.client.add_phone_number("+12125550199")
    tenant.client.close()
    with api_server(stack.env) as base, httpx.Client(timeout=60) as transport:
        client = SmallestAI(api_key=tenant.key, httpx_client=transport,
                            environment=SmallestAIEnvironment(
                                atoms=base + "/atoms/v1", waves=base, waves_ws=base,
                                payment=base))
        atoms = client.atoms

        audience = atoms.audience.create_audience_with_csv_upload(
            name="Spring leads", phone_number_column_name="phoneNumber",
            file=("leads.csv", leads_csv(), "text/csv")).data
        members = atoms.audience.get_audience_members(audience.id, page=1, offset=5).data
        assert (members.total_count, members.total_pages, members.has_more) == (12, 3, True)
        assert members.members[0].data["firstName"] == "Lead0"

        phones = atoms.phone_numbers.list().data
        assert [(p.id, p.attributes.phone_number) for p in phones] == [
            (caller_id.id, "+12125550199")]

        created = atoms.campaigns.create(
            name="Spring outreach", agent_id="agent-1", audience_id=audience.id,
            phone_number_ids=[phones[0].id], max_retries=1, retry_delay=2,
            # Our settings Atoms has no field for ride along as extensions.
            request_options={"additional_body_parameters": {
                "pacing": {"channels": 2}, "callWindow": {"start": "08:00", "end": "20:00"}}},
        ).data
        assert (created.status, created.max_retries, created.retry_delay) == ("draft", 1, 2)
        assert created.participants_count == 12 and created.audience_id == audience.id

        started = atoms.campaigns.start_or_resume(created.id).data
        assert started.campaign_id == created.id and started.task_id
        running = atoms.campaigns.get(created.id).data
        assert running.campaign.status == "running"
        assert running.metrics.total_participants == 12

        atoms.campaigns.pause(created.id)
        paused = atoms.campaigns.get(created.id).data
        assert paused.campaign.status == "paused" and paused.campaign.paused_at is not None
        atoms.campaigns.start_or_resume(created.id)  # Atoms' start also resumes
        assert atoms.campaigns.get(created.id).data.campaign.status == "running"

        listed = atoms.campaigns.list(page=1, offset=10)
        assert [c.id for c in listed.data.campaigns] == [created.id]
        assert listed.data.pagination.total == 1

        def finished():
            detail = atoms.campaigns.get(created.id).data
            return detail if detail.campaign.status == "completed" else None

        done = wait_for(finished, timeout_s=120, what="the campaign completed", interval_s=0.5)
        assert done.metrics.total_participants == 12
        assert done.metrics.contacts_called == 12
        assert done.metrics.contacts_connected == 9  # 5 at once, 4 on their retry
        assert done.campaign.retry_attempts == 7  # the 4 no-answers and the 3 busy
        assert [e.event_action for e in done.events] == [
            "created", "started", "paused", "resumed", "completed"]
        assert all(e.trigger_source in {"api", "system"} for e in done.events)

        # The SDK's plain helpers (requests, dict answers) read the same surface.
        helper = Campaign(base_url=base + "/atoms/v1", api_key=tenant.key)
        shown = helper.get(created.id)["data"]["campaign"]
        assert shown["status"] == "completed"
        assert shown["settings"]["pacing"]["channels"] == 2
        assert shown["settings"]["callWindow"] == {"start": "08:00", "end": "20:00"}
        assert Audience(base_url=base + "/atoms/v1", api_key=tenant.key).get(
            audience.id)["data"]["memberCount"] == 12

        assert atoms.campaigns.delete(created.id).status is True
        with pytest.raises(ApiError) as gone:
            atoms.campaigns.get(created.id)
        assert gone.value.status_code == 404
        assert gone.value.body == {"status": False,
                                   "errors": [f"campaign {created.id} not found"]}
