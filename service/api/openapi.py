"""Request bodies the routes parse themselves, documented in OpenAPI as if FastAPI parsed them.

The prediction routes read their body with one pydantic-core call (service.api.body) instead
of FastAPI's decode-then-validate; `json_body(Model)` puts the model's schema back into the
route's OpenAPI entry, and `install` adds the schemas to the document's components.
"""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

_BODIES: dict[str, type[BaseModel]] = {}  # schema name -> request model, filled at import


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route whose JSON body is `model`."""
    _BODIES[model.__name__] = model
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


def install(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, model in _BODIES.items():
                found = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for sub, definition in found.pop("$defs", {}).items():
                    components.setdefault(sub, definition)
                components[name] = found
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
