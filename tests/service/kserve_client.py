"""KServe's `InferenceRESTClient` or `InferenceGRPCClient` against a running server, in a
process of its own.

`import kserve` registers the Open Inference Protocol's protobuf messages (package `inference`)
in protobuf's default pool, and so does tritonclient.grpc, whose definitions the service's gRPC
adapter uses: one process cannot import both. The tests run this module with `python -m`; it
reads the calls as JSON on stdin, makes them with the real client, and prints one JSON result
per call: `{"value": ...}` for health calls, the decoded answer for `infer`, or
`{"status", "error"}` when the server answered an error (`{"grpc_status", "error"}` over
gRPC, where `"grpc"` in the input names the server's gRPC address).
"""

import asyncio
import json
import sys
from importlib import metadata
from typing import Any

import grpc
import httpx
import kserve
import numpy as np
from kserve.protocol.infer_type import RequestedOutput


def request(call: dict[str, Any]) -> kserve.InferRequest:
    datatype = call.get("datatype", "FP32")
    batch = np.array(call["batch"], dtype={"FP32": np.float32, "FP64": np.float64}[datatype])
    window = kserve.InferInput("window", list(batch.shape), datatype)
    window.set_data_from_numpy(batch, binary_data=call["binary"])
    asked = [RequestedOutput(n, {"binary_data": True}) for n in call.get("binary_outputs", [])]
    return kserve.InferRequest(call["model"], [window], request_id=call.get("id"),
                               parameters=call.get("parameters"),
                               request_outputs=asked or None)  # fmt: skip


def decoded(result: kserve.InferResponse) -> dict[str, Any]:
    outputs = {}
    for output in result.outputs:
        values = output.as_numpy()
        data = (
            [v.decode() if isinstance(v, bytes) else v for v in values.ravel()]
            if output.datatype == "BYTES"
            else values.tolist()
        )
        outputs[output.name] = {"datatype": output.datatype, "shape": output.shape, "data": data}
    parameters = {k: _plain(v) for k, v in (result.parameters or {}).items()}
    return {"id": result.id, "model_name": result.model_name, "parameters": parameters,
            "outputs": outputs}  # fmt: skip


def _plain(value: Any) -> Any:
    """A parameter as JSON: over gRPC the SDK leaves it an InferParameter message (whose
    double, in kserve 0.21, arrives empty: None here)."""
    which = getattr(value, "WhichOneof", None)
    if which is None:
        return value
    choice = which("parameter_choice")
    return getattr(value, choice) if choice else None


async def make(client: kserve.InferenceRESTClient, url: str, call: dict[str, Any]) -> dict:
    op = call["op"]
    try:
        if op == "live":
            return {"value": await client.is_server_live(url)}
        if op == "ready":
            return {"value": await client.is_server_ready(url)}
        if op == "model_ready":
            return {"value": await client.is_model_ready(url, call["model"])}
        return decoded(await client.infer(url, request(call), model_name=call["model"]))
    except httpx.HTTPStatusError as exc:
        return {"status": exc.response.status_code, "error": str(exc)}


async def make_grpc(client: kserve.InferenceGRPCClient, call: dict[str, Any]) -> dict:
    op = call["op"]
    try:
        if op == "live":
            return {"value": await client.is_server_live()}
        if op == "ready":
            return {"value": await client.is_server_ready()}
        if op == "model_ready":
            return {"value": await client.is_model_ready(call["model"])}
        return decoded(await client.infer(request(call)))
    except grpc.aio.AioRpcError as exc:
        return {"grpc_status": exc.code().name, "error": exc.details()}


async def main() -> None:
    given = json.load(sys.stdin)
    if given.get("grpc"):
        client = kserve.InferenceGRPCClient(given["grpc"])
        calls = [make_grpc(client, call) for call in given["calls"]]
    else:
        client = kserve.InferenceRESTClient(kserve.RESTConfig(protocol="v2"))
        calls = [make(client, given["url"], call) for call in given["calls"]]
    try:
        results = [await call for call in calls]
    finally:
        await client.close()
    print(json.dumps({"kserve": metadata.version("kserve"), "results": results}))


if __name__ == "__main__":
    asyncio.run(main())
