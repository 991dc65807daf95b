"""Request bodies the routes parse themselves, documented in OpenAPI as if FastAPI parsed them,
and an example for every path parameter and for the evaluate body, so "Try it out" on /docs
answers as it is.

The prediction routes read their body with one pydantic-core call (service.api.body) instead
of FastAPI's decode-then-validate; `json_body(Model)` puts the model's schema back into the
route's OpenAPI entry, and `install` adds the schemas to the document's components.
"""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from service import examples
from service.core.repository import Repository

_BODIES: dict[str, type[BaseModel]] = {}  # schema name -> request model, filled at import
EVALUATE = "/models/{name}/evaluate"
# evaluate's body depends on the model: one named example per model, the first one shown
EVALUATE_EXAMPLES = {
    "sine": examples.EVALUATE_SINE,
    "classify": examples.EVALUATE_CLASSIFY,
    "stock": {"rows": examples.EVALUATE_ROWS},
}
# so does the body of POST /predict/{name}: the shipped models' own requests
PREDICT_EXAMPLES = {
    "stock": {"rows": examples.STOCK_ROWS},
    "sine": {"x": examples.SINE_X},
    "classify": {"x": examples.CLASSIFY_X},
}
PER_MODEL = {EVALUATE: EVALUATE_EXAMPLES, "/predict/{name}": PREDICT_EXAMPLES}
LABEL = "stable"  # the label models/<name>/labels.json names for each shipped model


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route whose JSON body is `model`."""
    _BODIES[model.__name__] = model
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


def install(app: FastAPI, repository: Repository | None = None) -> None:
    """The document with the request bodies' schemas and the examples; a path's `version`
    example is the newest version of its model in `repository`, when given."""
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
            newest = {}
            if repository is not None:
                newest = {n: v[0] for n, v in repository.listing().items() if v}
            add_examples(schema, newest)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def add_examples(schema: dict[str, Any], newest: dict[str, int]) -> None:
    """Path parameters get examples that fit their route: the TF Serving and Open Inference
    Protocol bodies' examples are sine windows, so a route with a body names sine, one
    without names stock; evaluate offers one example per model, the same names for `name`
    and for the body, so picking one in both lists sends a matching pair."""
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            per_model = PER_MODEL.get(path)
            if per_model is not None:
                content = operation["requestBody"]["content"]["application/json"]
                content["examples"] = {k: {"value": v} for k, v in per_model.items()}
            model = "sine" if "requestBody" in operation else "stock"
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path":
                    continue
                if parameter["name"] == "name" and per_model is not None:
                    parameter["examples"] = {k: {"value": k} for k in per_model}
                elif parameter["name"] == "label":
                    parameter["example"] = LABEL
                elif parameter["name"] == "name":
                    parameter["example"] = model
                elif parameter["name"] == "version" and model in newest:
                    parameter["example"] = newest[model]
