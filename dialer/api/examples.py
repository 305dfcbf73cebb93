"""Examples for the OpenAPI document: one per response shape, as the dialer answers."""

from __future__ import annotations

from typing import Any

CAMPAIGN_ID = "5f0c6a2e-8d1b-4c3f-9a7e-2b6d1e4f8a90"
AUDIENCE_ID = "0b8e7a51-3c2d-4e6f-8a9b-1c2d3e4f5a6b"
NUMBER_ID = "7d3f1c2b-9a8e-4b6c-8d1e-2f3a4b5c6d7e"
CALL_ID = "c1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8"
AT = "2026-03-02T09:00:00-05:00"

PHONE_NUMBER = {"id": NUMBER_ID, "number": "+14155550100", "provider": "simulated",
                "is_active": True, "cps": 1.0}
AUDIENCE = {"id": AUDIENCE_ID, "name": "March renewals", "count": 1,
            "rejected": [{"index": 1, "phone": "12", "error": "not a valid phone number"}]}
AUDIENCE_SUMMARY = {"id": AUDIENCE_ID, "name": "March renewals", "count": 1, "created_at": AT}
SPEC = {"name": "March renewals", "audience_id": AUDIENCE_ID, "phone_number_ids": [NUMBER_ID],
        "timezone": "America/New_York", "agent_id": "agent-1",
        "schedule": {"call_window": {"start": "09:00", "end": "18:00"},
                     "allowed_days": ["mon", "tue", "wed", "thu", "fri"]},
        "pacing": {"channels": 5}, "retry": {"max_retries": 2, "retry_delay_minutes": 30}}
CAMPAIGN = {"id": CAMPAIGN_ID, "name": "March renewals", "description": None, "status": "draft",
            "pause_reason": None, "agent_id": "agent-1", "audience_id": AUDIENCE_ID,
            "phone_number_ids": [NUMBER_ID], "scheduled_at": None,
            "timezone": "America/New_York", "priority": 0, "external_id": None, "channels": 5,
            "breaker_open": False, "created_at": AT, "updated_at": AT, "spec": SPEC,
            "executions": []}
METRICS = {"total_participants": 1, "contacts_called": 1, "contacts_connected": 1,
           "calls_placed": 1, "in_progress": 0, "channels_in_use": 0,
           "outcomes": {"answered": 1}, "by_status": {"completed": 1}}
DETAIL = {"campaign": {**CAMPAIGN, "status": "completed", "executions": [
    {"execution_number": 1, "status": "completed", "started_at": AT, "ended_at": AT,
     "total_members": 1, "processed_members": 1, "failed_members": 0}]}, "metrics": METRICS}
PARTICIPANT = {"contact_id": 1, "phone": "+14155550123", "status": "retry_scheduled",
               "attempts": 1, "next_attempt_at": AT, "last_outcome": "no_answer"}
CALL = {"call_id": CALL_ID, "contact_id": 1, "phone": "+14155550123",
        "from_number": "+14155550100", "attempt": 1, "placed_at": AT, "ended_at": AT,
        "outcome": "answered", "duration_s": 42.5}
EVENT = {"at": AT, "source": "api", "action": "started", "detail": None}
SKIP = {"at": AT, "contact_id": 1, "phone": "+14155550123", "reason": "dnc", "detail": None}
# A running campaign's pacing and end date (what may change in which status: docs/contract.md).
PATCH = {"pacing": {"channels": 10, "calls_per_minute": 30}, "schedule": {"end_date": "2026-03-31"}}
FORECAST = {"calls_per_hour": 120.0, "eta": AT}
READINESS = {"campaign_id": CAMPAIGN_ID, "at": AT, "will_dial": False, "checks": [
    {"name": "status", "ok": False, "detail": "draft: start it first"}]}


def ok(example: Any, description: str = "Success") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"example": example}}}


# --- analytics (issue 14) ---
FUNNEL = {"campaign_id": CAMPAIGN_ID, "total": 200, "scheduled": 196, "dialed": 180,
          "connected": 72, "goal_achieved": 30, "called_pct": 90.0, "connected_pct": 36.0,
          "steps": [
              {"name": "total", "count": 200, "pct_of_total": 100.0, "pct_of_previous": 100.0},
              {"name": "scheduled", "count": 196, "pct_of_total": 98.0,
               "pct_of_previous": 98.0},
              {"name": "dialed", "count": 180, "pct_of_total": 90.0, "pct_of_previous": 91.8},
              {"name": "connected", "count": 72, "pct_of_total": 36.0,
               "pct_of_previous": 40.0},
              {"name": "goal_achieved", "count": 30, "pct_of_total": 15.0,
               "pct_of_previous": 41.7}]}
HEATMAP = {"campaign_id": CAMPAIGN_ID, "timezone": "America/New_York", "placed": 40,
           "answered": 14, "cells": [
               {"dow": 0, "day": "mon", "hour": 9, "placed": 40, "answered": 14,
                "answer_rate": 0.35}]}
PICKUP = [{"key": "1", "placed": 180, "answered": 54, "rate": 0.3},
          {"key": "2", "placed": 120, "answered": 18, "rate": 0.15}]
EXECUTIONS = {"campaign_id": CAMPAIGN_ID, "total": 2, "running": 1, "paused": 1, "stopped": 0,
              "completed": 0, "failed": 0, "executions": [
                  {"execution_number": 1, "status": "paused", "started_at": AT,
                   "ended_at": "2026-03-02T10:30:00-05:00", "duration_s": 5400.0,
                   "total_members": 200, "processed_members": 120, "failed_members": 8,
                   "calls_placed": 150, "progress_pct": 60.0},
                  {"execution_number": 2, "status": "running",
                   "started_at": "2026-03-02T11:00:00-05:00", "ended_at": None,
                   "duration_s": 600.0, "total_members": 200, "processed_members": 20,
                   "failed_members": 0, "calls_placed": 22, "progress_pct": 10.0}]}
