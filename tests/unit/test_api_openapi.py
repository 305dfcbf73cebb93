"""The published OpenAPI document: every route of CONTRACT §9's native table is there,
with a summary and examples, and the security it really asks for."""

from __future__ import annotations

from typing import Any

import pytest

from dialer.api import create_app

DOC = create_app().openapi()
OPERATIONS = [(path, method, op) for path, ops in DOC["paths"].items()
              for method, op in ops.items()]

NATIVE = {
    ("post", "/v1/phone-numbers"), ("get", "/v1/phone-numbers"),
    ("post", "/v1/audiences"), ("get", "/v1/audiences"),
    ("post", "/v1/campaigns"), ("get", "/v1/campaigns"),
    ("get", "/v1/campaigns/{campaign_id}"), ("delete", "/v1/campaigns/{campaign_id}"),
    *{("post", f"/v1/campaigns/{{campaign_id}}/{verb}")
      for verb in ("start", "pause", "resume", "stop", "reset-breaker")},
    ("put", "/v1/campaigns/{campaign_id}/channels"),
    *{("get", f"/v1/campaigns/{{campaign_id}}/{read}")
      for read in ("participants", "calls", "events", "skips", "forecast", "readiness",
                   "stream")},
    ("post", "/v1/dnc"), ("delete", "/v1/dnc"), ("get", "/v1/dnc"),
    ("post", "/v1/calls/{call_id}/result"), ("get", "/healthz"),
    # leads (issue 14)
    ("get", "/v1/audiences/{audience_id}/members"), ("post", "/v1/audiences/{audience_id}/members"),
    ("delete", "/v1/audiences/{audience_id}/members"),
    ("post", "/v1/campaigns/{campaign_id}/contacts"),
    ("post", "/v1/campaigns/{campaign_id}/participants/requeue"),
    ("post", "/v1/campaigns/{campaign_id}/participants/close"),
}


def test_every_native_route_of_the_contract_is_published():
    published = {(method, path) for path, method, _ in OPERATIONS}
    assert published >= NATIVE, NATIVE - published


def _has_example(media: dict[str, Any]) -> bool:
    schema = media.get("schema", {})
    if "example" in media or "examples" in media:
        return True
    ref = schema.get("$ref", "").rsplit("/", 1)[-1]
    return bool(ref and DOC["components"]["schemas"][ref].get("examples"))


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS,
                         ids=[f"{m.upper()} {p}" for p, m, _ in OPERATIONS])
def test_every_operation_has_a_summary_and_examples(path, method, op):
    assert op.get("summary")
    for status, response in op["responses"].items():
        if status.startswith("2") and status != "204":
            assert all(_has_example(media) for media in response["content"].values()), status
    for media in op.get("requestBody", {}).get("content", {}).values():
        if "$ref" in media.get("schema", {}) and media["schema"]["$ref"].endswith("CampaignSpec"):
            assert "example" in media
        elif media.get("schema", {}).get("type") != "object":
            assert _has_example(media), (path, method)


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS,
                         ids=[f"{m.upper()} {p}" for p, m, _ in OPERATIONS])
def test_every_route_but_health_asks_for_a_key_and_documents_its_401(path, method, op):
    if path == "/healthz":
        assert "security" not in op
        return
    assert {"HTTPBearer": []} in op["security"]
    assert "401" in op["responses"]
