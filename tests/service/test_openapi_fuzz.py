"""Schema-driven fuzzing of every route from the app's own OpenAPI document (schemathesis).

In-process over ASGI, on the deterministic fakes: no 5xx, and every answer (status, headers,
body) matches what the document declares. Bounded examples keep it to seconds.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks

from service.main import create_app
from service.settings import Settings

# positive_data_acceptance is left out: a schema-valid body can still break a model rule
# the schema cannot express (stock needs `window` rows; dates must increase), a 422 by design.
CHECKED = [
    not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
]


@pytest.fixture(scope="module")
def api_schema(fake_models_dir):
    app = create_app(Settings(models_dir=fake_models_dir, reload_interval_s=0))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


FUZZ = settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


def test_every_route_answers_as_documented(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {"/predict/stock", "/predict/sine", "/classify"} <= {op.path for op in operations}
    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy())
        def fuzz(case):
            case.call_and_validate(checks=CHECKED)

        fuzz()
