"""Every example /docs offers answers 2xx when sent as it is ("Try it out" on each route).

The requests are built from the app's own OpenAPI document the way Swagger UI fills its
form: a path parameter's `example` (or, where it offers several, the one of the same name
as the body's), a body's named `examples` or else its schema's first `examples` item.
"""

from typing import Any

import pytest

from service.api import openapi as openapi_module


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def requests(document: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """(case, METHOD, url, JSON body or None) for every example of every operation."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            bodies: dict[str, Any] = {"": None}
            if content is not None:
                if "examples" in content:
                    bodies = {k: e["value"] for k, e in content["examples"].items()}
                else:
                    bodies = {"": resolve(document, content["schema"])["examples"][0]}
            for name, body in bodies.items():
                url = path
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "path":
                        value = example_of(parameter, name)
                        url = url.replace("{" + parameter["name"] + "}", str(value))
                found.append((f"{method.upper()} {path} {name}".strip(), method, url, body))
    return found


def example_of(parameter: dict[str, Any], name: str) -> Any:
    if "examples" in parameter:
        return parameter["examples"][name]["value"]
    assert "example" in parameter, f"path parameter {parameter['name']} has no example"
    return parameter["example"]


@pytest.fixture(scope="module")
def document(committed_client) -> dict[str, Any]:
    return committed_client.get("/openapi.json").json()


def test_every_path_parameter_and_every_body_has_an_example(document):
    cases = requests(document)
    assert len(cases) >= 24  # every route, evaluate once per model
    evaluate = [c for c in cases if c[0].startswith(f"POST {openapi_module.EVALUATE}")]
    assert {c[2] for c in evaluate} == {f"/models/{n}/evaluate" for n in ("stock", "sine",
                                                                          "classify")}  # fmt: skip


def test_every_example_answers_2xx(committed_client, document):
    for case, method, url, body in requests(document):
        response = committed_client.request(method, url, json=body)
        assert 200 <= response.status_code < 300, f"{case}: {url} {response.text[:300]}"
