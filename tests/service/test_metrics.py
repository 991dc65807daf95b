"""GET /metrics: Prometheus text that counts by route template, status and model."""

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.core.metrics import RegistryState
from service.examples import SINE_X
from service.main import create_app
from service.settings import Settings
from tests.service.conftest import client_for


def scrape(client) -> dict[tuple[str, frozenset], float]:
    """Every sample of a scrape, keyed by (sample name, labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_counted_by_route_template_and_status(client):
    before = scrape(client)
    for _ in range(3):
        assert client.post("/predict/sine", json={"x": SINE_X}).status_code == 200
    assert client.post("/predict/sine", json={"x": SINE_X[:5]}).status_code == 422
    assert client.get("/models/no-such-model").status_code == 404
    assert client.get("/no/such/path").status_code == 404
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "lstm_http_requests_total"
    assert delta(requests, route="/predict/sine", method="POST", status="200") == 3
    assert delta(requests, route="/predict/sine", method="POST", status="422") == 1
    assert delta(requests, route="/models/{name}", method="GET", status="404") == 1
    assert delta(requests, route="<unmatched>", method="GET", status="404") == 1
    assert not any("no-such-model" in v for _, labels in after for _, v in labels)
    latency = "lstm_http_request_duration_seconds_count"
    assert delta(latency, route="/predict/sine", method="POST") == 4


def test_inference_latency_and_batch_size_per_model(client):
    before = scrape(client)
    client.post("/predict/sine", json={"x": [SINE_X, SINE_X, SINE_X]})  # one call, 3 windows
    client.post("/predict/sine", json={"x": SINE_X[:5]})  # rejected before the model
    after = scrape(client)
    for name, expected in [
        ("lstm_model_inference_seconds_count", 1),
        ("lstm_model_batch_size_count", 1),
        ("lstm_model_batch_size_sum", 3),
    ]:
        assert value(after, name, model="sine") - value(before, name, model="sine") == expected
    assert value(after, "lstm_model_inference_seconds_sum", model="sine") > value(
        before, "lstm_model_inference_seconds_sum", model="sine"
    )


def test_loaded_model_versions_gauge(models_dir):
    with client_for(models_dir) as client:  # each app's /metrics shows its own models
        served = client.get("/health/ready").json()["models"]
        samples = scrape(client)
    assert served
    loaded = {
        dict(labels)["model"]: dict(labels)["version"]
        for (name, labels), v in samples.items()
        if name == "lstm_model_loaded" and v == 1
    }
    assert loaded == {name: str(version) for name, version in served.items()}
    for name in served:  # read from the app's micro-batchers (idle here)
        assert value(samples, "lstm_model_queue_depth", model=name) == 0
        assert ("lstm_model_queue_depth", frozenset({("model", name)})) in samples


def test_process_memory_is_exported(client):
    assert value(scrape(client), "process_resident_memory_bytes") > 10_000_000


def test_queue_depth_read_from_the_batchers_at_scrape_time():
    state = RegistryState(lambda: ({"sine": 7}, {}, {"sine": 3}))
    families = {f.name: f for f in state.collect()}
    [depth] = families["lstm_model_queue_depth"].samples
    assert depth.labels == {"model": "sine"} and depth.value == 3
    [loaded] = families["lstm_model_loaded"].samples
    assert loaded.labels == {"model": "sine", "version": "7"} and loaded.value == 1


def test_a_crash_is_counted_as_500_on_its_route(models_dir):
    app = create_app(Settings(models_dir=models_dir))

    @app.get("/boom/{n}")
    async def boom(n: int) -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        before = scrape(client)
        assert client.get("/boom/1").status_code == 500
        after = scrape(client)
    labels = {"route": "/boom/{n}", "method": "GET", "status": "500"}
    assert (
        value(after, "lstm_http_requests_total", **labels)
        - value(before, "lstm_http_requests_total", **labels)
        == 1
    )
