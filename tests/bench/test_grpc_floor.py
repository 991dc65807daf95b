"""bench/grpc_floor.py: the floor servers replay an answer, and the model calls' means are
read from /metrics."""

import asyncio
import math
from pathlib import Path

import httpx
import numpy as np

from bench import grpc_floor, h2load
from service.grpc.kserve import InferenceService
from service.main import build_registry
from service.settings import Settings

MODELS = Path(__file__).resolve().parents[2] / "models"


def test_the_floor_answers_every_call_with_the_first_answer(monkeypatch):
    monkeypatch.setattr(grpc_floor.Replayed, "answer", None)
    registry = build_registry(Settings(models_dir=MODELS))
    try:
        shipped, replayed = InferenceService(registry), grpc_floor.Replayed(registry)
        first, other = h2load.request(), h2load.request()
        other.raw_input_contents[0] = (
            (np.frombuffer(first.raw_input_contents[0], "<f4") * 1.5).astype("<f4").tobytes()
        )

        async def calls():
            return [
                await shipped.ModelInfer(first, None),
                await replayed.ModelInfer(first, None),
                await replayed.ModelInfer(other, None),
                await shipped.ModelInfer(other, None),
            ]

        real, replay_first, replay_other, real_other = asyncio.run(calls())
    finally:
        registry.stop()
    assert replay_first.raw_output_contents == real.raw_output_contents
    assert replay_other is replay_first  # no decoding, no model: the same message again
    assert real_other.raw_output_contents != real.raw_output_contents  # the input mattered


METRICS = """# HELP lstm_model_batch_size Windows per model call, by model.
lstm_model_batch_size_count{model="sine"} 5.0
lstm_model_batch_size_sum{model="sine"} 500.0
lstm_model_batch_size_count{model="stock"} 40.0
lstm_model_batch_size_sum{model="stock"} 100.0
lstm_model_inference_seconds_count{model="stock"} 40.0
lstm_model_inference_seconds_sum{model="stock"} 0.004
"""


def test_mean_of_reads_one_models_histogram():
    assert grpc_floor.mean_of(METRICS, "lstm_model_batch_size") == 2.5
    assert grpc_floor.mean_of(METRICS, "lstm_model_batch_size", "sine") == 100.0
    assert math.isclose(grpc_floor.mean_of(METRICS, "lstm_model_inference_seconds"), 1e-4)
    assert math.isnan(grpc_floor.mean_of(METRICS, "lstm_model_batch_size", "classify"))
    assert math.isnan(grpc_floor.mean_of(METRICS, "lstm_model_inference_seconds", "sine"))


def test_the_rest_floor_answers_every_request_with_the_file_it_names(monkeypatch, tmp_path):
    answer = tmp_path / "answer.json"
    answer.write_bytes(b'{"next_close": 2735.64}')
    monkeypatch.setenv("REST_FLOOR_ANSWER", str(answer))
    app = grpc_floor.rest_floor_app()

    async def run():
        events = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
        sent = []

        async def receive():
            return next(events)

        async def send(message):
            sent.append(message["type"])

        await app({"type": "lifespan"}, receive, send)  # returns once shut down
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://floor") as client:
            posted = await client.post("/predict/stock", content=b'{"rows": []}' * 1000)
            ready = await client.get("/health/ready")
        return sent, posted, ready

    sent, posted, ready = asyncio.run(run())
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    for response in (posted, ready):
        assert response.status_code == 200
        assert response.content == answer.read_bytes()
        assert response.headers["content-length"] == str(len(answer.read_bytes()))
