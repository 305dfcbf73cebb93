"""The OpenAPI document: FastAPI's, plus the schemas of bodies that routes read themselves
(the campaign spec, the webhook's result, the JSON audience) and the webhook's
signature scheme."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from dialer.api.schemas import AudienceIn, CallResultIn
from dialer.api.webhook import SIGNATURE_HEADER
from dialer.spec import CampaignSpec

EXTRA_MODELS: tuple[type[BaseModel], ...] = (CampaignSpec, CallResultIn, AudienceIn)


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
    doc["components"].setdefault("securitySchemes", {})["DialerSignature"] = {
        "type": "apiKey", "in": "header", "name": SIGNATURE_HEADER,
        "description": "sha256=<hex HMAC-SHA256 of the raw body with the organisation's "
                       "webhook secret> (docs/api.md, \"Provider webhooks\")"}
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
