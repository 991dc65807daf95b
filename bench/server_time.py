"""Server-side time of one 275-row stock request (256 sliding windows), measured in-process.

A stopwatch around the ASGI app times each request from the app receiving it to the
last byte of its answer (parsing, validation, windows, inference, JSON), without the
client or the network. Prints one JSON line. Run: `python -m bench.server_time`.
"""

import json
import statistics
import time

import numpy as np
from fastapi.testclient import TestClient

from bench.bodies import stock_rows
from service.main import create_app

ROUNDS = 50


class Stopwatch:
    """ASGI middleware recording the seconds each HTTP request spends in the app."""

    def __init__(self, app) -> None:
        self.app, self.seconds = app, []

    async def __call__(self, scope, receive, send) -> None:
        start = time.perf_counter()
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.seconds.append(time.perf_counter() - start)


def main() -> None:
    app = create_app()
    stopwatch = Stopwatch(app)
    body = stock_rows(275)
    with TestClient(stopwatch) as client:
        for _ in range(5):  # warm-up
            assert client.post("/predict/stock", json=body).status_code == 200
        stopwatch.seconds.clear()
        for _ in range(ROUNDS):
            response = client.post("/predict/stock", json=body)
        assert len(response.json()["predictions"]) == 256
        model_ms = model_call_ms(client.app_state["registry"])  # the lifespan's state
    ms = sorted(1000 * s for s in stopwatch.seconds)
    print(json.dumps({
        "rounds": ROUNDS, "median_ms": statistics.median(ms), "p90_ms": ms[int(0.9 * len(ms))],
        "max_ms": ms[-1], "model_call_ms": model_ms,
    }))  # fmt: skip


def model_call_ms(registry) -> float:
    """Median time of the model call alone for 256 windows (the profile's biggest part)."""
    model = registry.models["stock"]
    batch = np.ones((256, *model.spec.input_shape), dtype=np.float32)
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        model.serve(batch)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


if __name__ == "__main__":
    main()
