"""The benchmark's table, target checks, JSON file and chart."""

import json
from pathlib import Path

VARIANTS = ("shipped", "ceiling", "naive")


def targets(results: dict) -> list[dict]:
    """Issue 3's targets, each with the measured value, the bound and pass/fail."""
    runs = results["runs"]
    stock64 = {v: runs[v].get("/predict/stock", {}).get("64") for v in VARIANTS if v in runs}
    checks = []
    if stock64.get("shipped") and stock64.get("ceiling"):
        ship, ceil = stock64["shipped"], stock64["ceiling"]
        checks.append(check("stock@64 rps >= 80% of ceiling", ship["rps"] / ceil["rps"], 0.8, ">="))
        checks.append(check("stock@64 p99 <= 1.5x ceiling", ship["p99_ms"] / ceil["p99_ms"], 1.5))
    if "naive" in runs:
        for path in [p for p in runs["shipped"] if "64" in runs["shipped"][p]]:
            ratio = runs["shipped"][path]["64"]["rps"] / runs["naive"][path]["64"]["rps"]
            checks.append(check(f"{path}@64 rps >= 50x naive", ratio, 50, ">="))
    grpc = results.get("grpc", {}).get("v2 ModelInfer stock", {}).get("64")
    if grpc and "naive" in runs and "64" in runs["naive"].get("/predict/stock", {}):
        ratio = grpc["rps"] / runs["naive"]["/predict/stock"]["64"]["rps"]
        checks.append(check("gRPC ModelInfer stock@64 rps >= 50x naive REST", ratio, 50, ">="))
    extra = results.get("extra", {})
    if "server_time" in extra:
        median = extra["server_time"]["median_ms"]
        checks.append(check("275-row request, server-side median ms", median, 10))
    if "startup_s" in extra and "import_tensorflow_s" in extra:
        over = extra["startup_s"] - extra["import_tensorflow_s"]
        checks.append(check("start to ready - import tensorflow, s", over, 3))
    if "rss_ready_mb" in extra:
        checks.append(check("RSS with the three models, MB", extra["rss_ready_mb"], 700))
    return checks


def check(name: str, value: float, bound: float, op: str = "<=") -> dict:
    ok = value >= bound if op == ">=" else value <= bound
    return {"target": name, "value": round(value, 3), "bound": f"{op} {bound:g}", "pass": ok}


def table(results: dict) -> str:
    """Markdown: one row per endpoint and connection count, req/s and p50/p99 per variant."""
    runs = results["runs"]
    variants = [v for v in VARIANTS if v in runs]
    head = "| endpoint | conns | " + " | ".join(f"{v} req/s, p50 / p99 ms" for v in variants)
    lines = [head + " |", "|---|---:|" + "---:|" * len(variants)]
    for path, by_conns in runs["shipped"].items():
        for conns in by_conns:
            cells = []
            for v in variants:
                r = runs[v][path][conns]
                errors = f" ({r['errors']} errors)" if r["errors"] else ""
                cells.append(f"{r['rps']:,.0f}, {r['p50_ms']:.1f} / {r['p99_ms']:.1f}{errors}")
            lines.append(f"| `{path}` | {conns} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


GRPC_PATHS = {"stock": "/predict/stock", "sine": "/predict/sine", "classify": "/classify"}


def grpc_table(results: dict) -> str:
    """Markdown: each gRPC call beside the native REST route of its model, same concurrency."""
    runs = results["runs"]
    variants = [v for v in VARIANTS if v in runs]
    head = "| gRPC call | calls in flight | gRPC req/s, p50 / p99 ms | " + " | ".join(
        f"REST {v}" for v in variants
    )
    lines = [head + " |", "|---|---:|---:|" + "---:|" * len(variants)]
    for name, by_conns in results["grpc"].items():
        path = GRPC_PATHS[name.rsplit(" ", 1)[-1]]
        for conns, r in by_conns.items():
            cells = [_cell(r)]
            cells += [_cell(runs[v][path][conns]) if conns in runs[v].get(path, {}) else "-"
                      for v in variants]  # fmt: skip
            lines.append(f"| {name} | {conns} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(r: dict) -> str:
    errors = f" ({r['errors']} errors)" if r["errors"] else ""
    return f"{r['rps']:,.0f}, {r['p50_ms']:.1f} / {r['p99_ms']:.1f}{errors}"


def extras(extra: dict) -> str:
    """The single measurements, as lines of text."""
    lines = []
    if "server_time" in extra:
        t = extra["server_time"]
        lines.append(
            f"275-row stock request (256 windows), server-side: median {t['median_ms']:.1f} ms, "
            f"p90 {t['p90_ms']:.1f} ms (the model call alone: {t['model_call_ms']:.1f} ms)"
        )
    if "startup_s" in extra:
        lines.append(
            f"process start to ready: {extra['startup_s']:.2f} s; "
            f"import tensorflow alone: {extra['import_tensorflow_s']:.2f} s"
        )
    if "rss_ready_mb" in extra:
        after = extra.get("rss_after_load_mb")
        tail = f", {after:.0f} MB after the load runs" if after else ""
        lines.append(f"resident memory (RSS): {extra['rss_ready_mb']:.0f} MB when ready{tail}")
    return "\n".join(lines)


def targets_table(checks: list[dict]) -> str:
    lines = ["| target | measured | bound | result |", "|---|---:|---:|---|"]
    for c in checks:
        result = "pass" if c["pass"] else "**FAIL**"
        lines.append(f"| {c['target']} | {c['value']:g} | {c['bound']} | {result} |")
    return "\n".join(lines)


def chart(results: dict, path: Path) -> None:
    """Requests/s per endpoint and connection count, the three variants side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = results["runs"]
    variants = [v for v in VARIANTS if v in runs]
    paths = list(runs["shipped"])
    fig, axes = plt.subplots(
        1, len(paths), figsize=(4.2 * len(paths), 3.6), sharey=True, squeeze=False
    )
    for ax, endpoint in zip(axes[0], paths, strict=True):
        conns = list(runs["shipped"][endpoint])
        width = 0.8 / len(variants)
        for i, v in enumerate(variants):
            rps = [runs[v][endpoint][c]["rps"] for c in conns]
            xs = [k + (i - (len(variants) - 1) / 2) * width for k in range(len(conns))]
            ax.bar(xs, rps, width, label=v)
        ax.set_xticks(range(len(conns)), [f"{c} conns" for c in conns])
        ax.set_yscale("log")
        ax.set_title(endpoint)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("requests/s (log scale)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(variants), fontsize=9)
    machine = results["machine"]
    fig.suptitle(f"{machine['cpus']} x {machine['cpu_model']}, {machine['date']}", fontsize=9)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results: dict, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    chart(results, out_dir / "bench.png")
