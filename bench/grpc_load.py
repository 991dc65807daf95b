"""A small asyncio gRPC load client: `python -m bench --grpc` runs it; alone:
`python -m bench.grpc_load --port 8500 [--seconds 5] [--concurrency 1,16,64]`.

It drives the gRPC port of a server on 127.0.0.1 (loopback only) with the same windows as
the REST bodies (bench/bodies.py): the Open Inference Protocol's ModelInfer for each model
(raw FP32, as tritonclient sends) and TF Serving's Predict for stock. Each request is
serialized once and sent as bytes on one HTTP/2 connection, `concurrency` calls in flight;
a run stops at `seconds` or `max_requests`, whichever comes first. The client is Python:
at high rates it, not the server, may be the limit (it shares the machine's cores).
"""

import argparse
import asyncio
import json
import time

import numpy as np

from service import examples

HOST = "127.0.0.1"
V2 = "/inference.GRPCInferenceService/ModelInfer"
TFS = "/tensorflow.serving.PredictionService/Predict"
FEATURES = ("open", "high", "low", "close", "volume")


def windows(model: str) -> np.ndarray:
    """The REST bodies' one window of each model, (1, 20, n_features) float32."""
    if model == "stock":
        rows = [[row[f] for f in FEATURES] for row in examples.STOCK_ROWS]
        return np.array([rows], dtype=np.float32)
    x = examples.SINE_X if model == "sine" else examples.CLASSIFY_X
    return np.array(x, dtype=np.float32).reshape(1, -1, 1)


def v2_request(model: str) -> bytes:
    from tritonclient.grpc import service_pb2

    values = windows(model)
    request = service_pb2.ModelInferRequest(model_name=model)
    request.inputs.add(name="window", datatype="FP32", shape=list(values.shape))
    request.raw_input_contents.append(values.astype("<f4").tobytes())
    return request.SerializeToString()


def tfs_request(model: str) -> bytes:
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.inputs["window"].CopyFrom(tf.make_tensor_proto(windows(model)))
    return request.SerializeToString()


# name -> (method, model, request builder); the names are the keys of the results
CALLS = {
    "v2 ModelInfer stock": (V2, "stock", v2_request),
    "v2 ModelInfer sine": (V2, "sine", v2_request),
    "v2 ModelInfer classify": (V2, "classify", v2_request),
    "tfs Predict stock": (TFS, "stock", tfs_request),
}


async def drive(port: int, method: str, body: bytes, concurrency: int, seconds: float,
                max_requests: int) -> dict:  # fmt: skip
    """One run: `concurrency` calls in flight; requests/s and latencies, as bench.harness.wrk."""
    import grpc

    latencies: list[float] = []
    errors = 0
    async with grpc.aio.insecure_channel(f"{HOST}:{port}") as channel:
        call = channel.unary_unary(method)  # bytes in, bytes out: no client-side protobuf
        await call(body)  # the connection is up before the clock starts
        start = time.perf_counter()
        deadline = start + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline and len(latencies) + errors < max_requests:
                sent = time.perf_counter()
                try:
                    await call(body, timeout=10)
                except grpc.aio.AioRpcError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - sent)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    ms = np.array(latencies or [float("nan")]) * 1000
    return {
        "connections": concurrency,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
        "errors": errors,
    }


def runs(port: int, concurrency: list[int], seconds: float, names: list[str] | None = None,
         max_requests: int = 200_000) -> dict:  # fmt: skip
    """Every call x concurrency; {name: {str(concurrency): result}}."""
    results: dict[str, dict] = {}
    for name in names or list(CALLS):
        method, model, build = CALLS[name]
        body = build(model)
        asyncio.run(drive(port, method, body, 16, 1, max_requests))  # warm-up
        for c in concurrency:
            r = asyncio.run(drive(port, method, body, c, seconds, max_requests))
            results.setdefault(name, {})[str(c)] = r
            print(f"  grpc     {name:24s} {c:3d} calls: {r['rps']:8,.0f} req/s  "
                  f"p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
                  f"errors {r['errors']}", flush=True)  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help=f"the gRPC port on {HOST}")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--calls", default=",".join(CALLS), help="some of: " + ", ".join(CALLS))
    args = parser.parse_args()
    conc = [int(c) for c in args.concurrency.split(",")]
    found = runs(args.port, conc, args.seconds, args.calls.split(","), args.max_requests)
    print(json.dumps(found))


if __name__ == "__main__":
    main()
