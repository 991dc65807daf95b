"""KServe's `InferenceRESTClient` against a running server, in a process of its own.

`import kserve` registers the Open Inference Protocol's protobuf messages (package `inference`)
in protobuf's default pool, and so does tritonclient.grpc, whose definitions the service's gRPC
adapter uses: one process cannot import both. The tests run this module with `python -m`; it
reads the calls as JSON on stdin, makes them with the real client, and prints one JSON result
per call: `{"value": ...}` for health calls, the decoded answer for `infer`, or
`{"status", "error"}` when the server answered an error.
"""

import asyncio
import json
import sys
from importlib import metadata
from typing import Any

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
    return {"id": result.id, "model_name": result.model_name, "parameters": result.parameters,
            "outputs": outputs}  # fmt: skip


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


async def main() -> None:
    given = json.load(sys.stdin)
    client = kserve.InferenceRESTClient(kserve.RESTConfig(protocol="v2"))
    try:
        results = [await make(client, given["url"], call) for call in given["calls"]]
    finally:
        await client.close()
    print(json.dumps({"kserve": metadata.version("kserve"), "results": results}))


if __name__ == "__main__":
    asyncio.run(main())
