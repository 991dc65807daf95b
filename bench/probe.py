"""`python -m bench.probe`: how long a health probe waits while expensive bodies are in flight.

Starts the shipped service on a loopback port, keeps sixteen clients posting 1 MiB bodies
that are as costly as a body of that size can be made (one-value windows: `{"x": [[0], [0],
...]}`, refused as 422 after the route's pre-parse bound), and meanwhile times `GET
/health/live` every 20 ms. The target (issue 10): every probe answers within 200 ms, under
the manifests' probe timeout. Bounded: `--seconds` (default 10) of load, loopback only.
"""

import argparse
import http.client
import json
import statistics
import threading
import time

from bench import harness

TARGET_MS = 200.0


def costly_body(size: int = 1 << 20) -> bytes:
    body = b'{"x": [' + b"[0]," * ((size - 12) // 4)
    return body.rstrip(b",") + b"]}"


def hammer(port: int, body: bytes, stop: threading.Event, statuses: list) -> None:
    conn = http.client.HTTPConnection(harness.HOST, port, timeout=30)
    headers = {"Content-Type": "application/json"}
    while not stop.is_set():
        try:
            conn.request("POST", "/predict/sine", body, headers)
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
        except OSError:
            conn.close()
            conn = http.client.HTTPConnection(harness.HOST, port, timeout=30)
    conn.close()


def probe(port: int, seconds: float) -> list[float]:
    conn = http.client.HTTPConnection(harness.HOST, port, timeout=10)
    times, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = time.perf_counter()
        conn.request("GET", "/health/live")
        conn.getresponse().read()
        times.append((time.perf_counter() - start) * 1000)
        time.sleep(0.02)
    conn.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    body = costly_body()
    with harness.serving(harness.SERVICE, {"RELOAD_INTERVAL_S": "0"}) as server:
        idle = probe(server.port, 1.0)
        stop, statuses = threading.Event(), []
        clients = [threading.Thread(target=hammer, args=(server.port, body, stop, statuses))
                   for _ in range(args.clients)]  # fmt: skip
        for client in clients:
            client.start()
        loaded = probe(server.port, args.seconds)
        stop.set()
        for client in clients:
            client.join(30)
    result = {
        "clients": args.clients, "body_bytes": len(body), "bodies_answered": len(statuses),
        "statuses": sorted(set(statuses)), "probes": len(loaded),
        "idle_p50_ms": statistics.median(idle), "p50_ms": statistics.median(loaded),
        "p99_ms": sorted(loaded)[int(0.99 * (len(loaded) - 1))], "max_ms": max(loaded),
        "target_max_ms": TARGET_MS, "pass": max(loaded) <= TARGET_MS,
    }  # fmt: skip
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
