"""The Prometheus metric objects of the service (`GET /metrics` serves them: service.api).

Every metric lives in this one module, in its own `REGISTRY` (not prometheus-client's
global one, so nothing imported by accident shows up and tests can read it directly).
The objects are created once, on first import, as prometheus-client intends; several
apps in one process (the tests) share them, so tests compare before/after values.
With several uvicorn workers each process has its own numbers: run one per pod.

We use prometheus-client directly rather than prometheus-fastapi-instrumentator: the
HTTP side is one small middleware (`service.api.gate`), and the model-level metrics, the
part that matters here, would have to be hand-made with either.
"""

from collections.abc import Callable, Iterator
from typing import Any

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

disable_created_metrics()  # no `*_created` series: they double the output and few use them
REGISTRY = CollectorRegistry()
PROCESS = ProcessCollector(registry=REGISTRY)  # process_resident_memory_bytes, cpu s, open fds

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
# gRPC calls (service.grpc.gate); `method` is `service/Method`, `code` a status code name
GRPC_REQUESTS = Counter(
    "lstm_grpc_requests",
    "gRPC calls by method (service/method) and status code.",
    ["method", "code"],
    registry=REGISTRY,
)
GRPC_LATENCY = Histogram(
    "lstm_grpc_request_duration_seconds",
    "Time from a gRPC call's request to its answer, by method.",
    ["method"],
    buckets=_LATENCY_BUCKETS,
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
    """Gauges read from the served registry at scrape time, so they stay right after a hot
    reload without the reload or batching code having to know about metrics:

    - `lstm_model_loaded{model, version} 1` for every model version being served;
    - `lstm_model_rejected{model, version} 1` for a newest version that was refused;
    - `lstm_model_queue_depth{model}`: the most requests that waited at once since the last scrape.

    `state()` returns `(served {name: version}, rejected {name: version}, depth {name: n})`.
    """

    def __init__(self, state: Callable[[], tuple[dict, dict, dict]]) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        served, rejected, depth = self.state()
        yield _gauge("lstm_model_loaded", "1 for each model version being served.", served)
        yield _gauge("lstm_model_rejected", "1 for each newest version refused.", rejected)
        queue = GaugeMetricFamily(
            "lstm_model_queue_depth",
            "Most requests waiting at once for a model call since the previous scrape.",
            labels=["model"],
        )
        for name, n in sorted(depth.items()):
            queue.add_metric([name], n)
        yield queue


def _gauge(name: str, doc: str, versions: dict[str, Any]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=["model", "version"])
    for model, version in sorted(versions.items()):
        family.add_metric([model, str(version)], 1)
    return family


class Inference:
    """One model name's call metrics, its label children looked up once."""

    def __init__(self, model: str) -> None:
        self.latency, self.batch_size = INFERENCE_LATENCY.labels(model), BATCH_SIZE.labels(model)

    def observe(self, batch_size: int, seconds: float) -> None:
        """Record one model call."""
        self.latency.observe(seconds)
        self.batch_size.observe(batch_size)


def app_registry(state: Callable[[], tuple[dict, dict, dict]]) -> CollectorRegistry:
    """What one app's /metrics shows: the process-wide metrics and its own models' gauges.

    Each app gets its own, so two apps in one process (the tests) never mix their models.
    """
    found = CollectorRegistry(auto_describe=True)
    for collector in (PROCESS, HTTP_REQUESTS, HTTP_LATENCY, GRPC_REQUESTS, GRPC_LATENCY,
                      INFERENCE_LATENCY, BATCH_SIZE, WARNINGS):  # fmt: skip
        found.register(collector)
    found.register(RegistryState(state))
    return found


def scrape(registry: CollectorRegistry) -> tuple[bytes, str]:
    """Every metric of `registry` in the Prometheus text format, and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST
