"""The Prometheus metric objects of the service, and `GET /metrics` serving them.

Every metric lives in this one module, in its own `REGISTRY` (not prometheus-client's
global one, so nothing imported by accident shows up and tests can read it directly).
The objects are created once, on first import, as prometheus-client intends; several
apps in one process (the tests) share them, so tests compare before/after values.
With several uvicorn workers each process has its own numbers: run one per pod.

We use prometheus-client directly rather than prometheus-fastapi-instrumentator: the
HTTP side is one small middleware (`service.access`), and the model-level metrics, the
part that matters here, would have to be hand-made with either.
"""

from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from service.registry import Registry

disable_created_metrics()  # no `*_created` series: they double the output and few use them
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # process_resident_memory_bytes, cpu seconds, open fds

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

HTTP_REQUESTS = Counter(
    "lstm_http_requests",
    "HTTP requests by route template, method and status code.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "lstm_http_request_duration_seconds",
    "Time from request to the end of the response, by route template and method.",
    ["route", "method"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
INFERENCE_LATENCY = Histogram(
    "lstm_model_inference_seconds",
    "Time of one model call (one batch through the graph), by model.",
    ["model"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
BATCH_SIZE = Histogram(
    "lstm_model_batch_size",
    "Windows per model call, by model.",
    ["model"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
    registry=REGISTRY,
)
# Incremented wherever a response carries a warning (e.g. input outside the training range).
WARNINGS = Counter(
    "lstm_model_warnings",
    "Warnings returned in prediction responses, by model.",
    ["model"],
    registry=REGISTRY,
)


class RegistryState(Collector):
    """Gauges read from the served registry at scrape time, so they stay right after a
    hot reload without the reload or batching code having to know about metrics:

    - `lstm_model_loaded{model, version} 1` for every model version being served;
    - `lstm_model_queue_depth{model}`: requests waiting in the model's micro-batcher.
    """

    def __init__(self) -> None:
        self.registry: Registry | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        models = self.registry.models if self.registry else {}
        loaded = GaugeMetricFamily(
            "lstm_model_loaded",
            "1 for each model version being served.",
            labels=["model", "version"],
        )
        for name, model in sorted(models.items()):
            loaded.add_metric([name, str(model.version)], 1)
        yield loaded
        depth = GaugeMetricFamily(
            "lstm_model_queue_depth", "Requests waiting for a model call.", labels=["model"]
        )
        batchers = getattr(self.registry, "batchers", None) or {}
        for name, batcher in sorted(batchers.items()):
            depth.add_metric([name], batcher.queue.qsize())
        yield depth


REGISTRY_STATE = RegistryState()
REGISTRY.register(REGISTRY_STATE)


def observe_inference(model: str, batch_size: int, seconds: float) -> None:
    """Record one model call; called where the graph runs (infer, or the batcher)."""
    INFERENCE_LATENCY.labels(model).observe(seconds)
    BATCH_SIZE.labels(model).observe(batch_size)


router = APIRouter()


# Scraped by Prometheus, not part of the JSON API: kept out of the OpenAPI schema.
@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Every metric above in the Prometheus text format."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
