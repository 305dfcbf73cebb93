"""The commented spec ``dialer campaign template`` prints (and ``examples/spec.yaml`` is).

Every field is written out with its default, bound and unit, so a person edits a
file that already validates instead of writing one from the reference. Pure text:
``tests/unit/test_spec_template.py`` checks that it parses to the documented
defaults, so it cannot drift from ``dialer/spec.py`` unnoticed.
"""

from __future__ import annotations

SPEC_TEMPLATE = """\
# A campaign spec: every field, with its default. Reference: docs/spec.md.
#   dialer campaign create -f spec.yaml --audience NAME_OR_ID --caller-id NUMBER_OR_ID
# --audience and --caller-id fill audience_id and phone_number_ids below.

name: March renewals          # 1-40 characters (required)
description: null
agent_id: agent-1             # the voice agent that takes the calls; at most 200 characters
# audience_id: <id>           # or --audience NAME_OR_ID (required one way or the other)
# phone_number_ids: [<id>]    # caller IDs, rotated round robin; or --caller-id (repeatable)
scheduled_at: null            # e.g. "2026-03-02T09:00:00-05:00": starts by itself then
timezone: America/New_York    # IANA zone of the campaign (dates, and the window when
                              # contact_local_time is false)
priority: 0                   # -1000..1000, higher dials first
external_id: null             # your own key; at most 200 characters

schedule:
  call_window: {start: "09:00", end: "18:00"}   # HH:MM, start before end
  allowed_days: [mon, tue, wed, thu, fri]        # weekends are off unless listed
  holidays: []                  # dates never called, e.g. ["2026-12-25"]
  holiday_country: null         # e.g. US: that country's public holidays too
  start_date: null              # campaign-local dates, 2000-01-01..2100-12-31
  end_date: null
  contact_local_time: true      # the window is read on each contact's own clock
  recurrence: null              # daily | weekly | monthly: run again each period

pacing:
  preset: null                  # conservative | balanced | aggressive fill unset fields
  channels: 5                   # concurrent calls, 0..10000 (0 = nothing dials)
  calls_per_minute: null        # 1..6000, null = no limit
  spacing_seconds: 0            # seconds between two placements, 0..86400
  daily_limit: null             # calls per campaign-local day, 1..1000000, null = none

call_handling:
  ring_timeout_s: 30            # seconds, 5..120
  max_duration_s: 600           # seconds, 1..1800

retry:
  max_retries: 3                # 0..10 (attempts per contact = 1 + max_retries)
  retry_delay_minutes: 15       # 1..1440
  cooldown_hours: 0             # after any attempt, 0..8784
  not_picked_cooldown_hours: 0  # after a no-answer, 0..8784
  retry_on_voicemail: false
  goal_based: false             # an answered call without its goal is retried

safety:
  respect_dnc: true
  business_hours_guard: false   # true: never outside 08:00-21:00 callee-local
  circuit_breaker:              # pauses the campaign when too many calls fail
    enabled: true
    failure_rate: 0.5           # share of failed calls, above 0 and at most 1
    min_calls: 20               # 1..10000, at most window
    window: 50                  # the last N finished calls
  skip_recently_completed_hours: null   # 0..8784: skip contacts done that recently
"""
