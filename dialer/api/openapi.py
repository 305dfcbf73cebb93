"""The OpenAPI document: FastAPI's, plus the schemas of bodies that routes read themselves
(the campaign spec, the webhook's result, the JSON audience) and the webhook's
signature scheme."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from dialer.api.schemas import AudienceIn, CallResultIn
from dialer.api.stream_events import EVENTS
from dialer.api.webhook import SIGNATURE_HEADER
from dialer.spec import CampaignSpec

EXTRA_MODELS: tuple[type[BaseModel], ...] = (CampaignSpec, CallResultIn, AudienceIn,
                                              *EVENTS.values())


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def build(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(title=app.title, version=app.version, description=app.description,
                      routes=app.routes, tags=app.openapi_tags)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in EXTRA_MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}",
                                         mode="validation")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    _refs_alone(doc)
    _links(doc)
    doc["components"].setdefault("securitySchemes", {})["DialerSignature"] = {
        "type": "apiKey", "in": "header", "name": SIGNATURE_HEADER,
        "description": "t=<unix seconds>,sha256=<hex HMAC-SHA256 of `<t>.<call_id>.` and "
                       "the raw body, with the organisation's webhook secret>, good for 5 "
                       "minutes (docs/api.md, \"Provider webhooks\")"}
    return doc


def _refs_alone(doc: dict[str, Any]) -> None:
    # A route's openapi_extra is merged into FastAPI's own body schema ({"type": "object",
    # "$ref": ...}): the declared model alone is what the route accepts.
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                schema = media.get("schema", {})
                if "$ref" in schema:
                    media["schema"] = {"$ref": schema["$ref"]}


def _links(doc: dict[str, Any]) -> None:
    """OpenAPI links: what a response's ids lead to (a client generator, or schemathesis
    walking sequences of calls, follows them). A new audience feeds a campaign's
    ``audience_id``; a new or listed campaign feeds every route of ``{campaign_id}``."""
    paths = doc["paths"]
    by_campaign = {op["operationId"]: op for path, ops in paths.items()
                   if "{campaign_id}" in path and not path.endswith("/stream")
                   for op in ops.values()}
    create_campaign = paths["/v1/campaigns"]["post"]["operationId"]
    paths["/v1/audiences"]["post"]["responses"]["201"]["links"] = {
        "CampaignOfAudience": {"operationId": create_campaign,
                               "requestBody": {"audience_id": "$response.body#/id"}}}
    for status, method, pointer in (("201", "post", "/id"), ("200", "get", "/0/id")):
        paths["/v1/campaigns"][method]["responses"][status]["links"] = {
            _link_name(op_id): {"operationId": op_id,
                                "parameters": {"campaign_id": f"$response.body#{pointer}"}}
            for op_id in by_campaign}


def _link_name(operation_id: str) -> str:
    # "start_campaign_v1_campaigns__campaign_id__start_post" -> "StartCampaign"
    words = operation_id.split("_v1_")[0].split("_")
    return "".join(word.capitalize() for word in words)
