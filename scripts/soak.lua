-- wrk script of `make soak`: POST one stock window (the body file SOAK_BODY names) and
-- print wrk's totals as one JSON line, marked so scripts/soak.py can find it.
local f = assert(io.open(os.getenv("SOAK_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
wrk.headers["Content-Type"] = "application/json"
f:close()

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'SOAK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, '
    .. '"write": %d, "non_2xx_3xx": %d, "timeout": %d, "latency_ms": {"p50": %.2f, '
    .. '"p90": %.2f, "p99": %.2f, "max": %.2f}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
