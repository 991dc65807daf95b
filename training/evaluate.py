"""`python -m training evaluate models/<name>/<v>`: score an export on data it never saw.

The export is run the way the service runs it by default (artifact.litert: its model.tflite
through LiteRT, or its SavedModel's serving signature for an export without one), so the
predictions, the interval and the drift warnings scored here are the ones a client gets.
The scoring itself is `artifact.scorecard` (numpy only).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

import artifact
from artifact import consistency, periods, scorecard, series
from artifact.consistency import clean_windows
from artifact.litert import LiteFunction
from artifact.metadata import METADATA, SAVED_MODEL, TFLITE, trained_on
from training import printout
from training.config import TASKS
from training.data import DataError, PriceData, load_csv, load_series
from training.export import plain
from training.windows import next_close_windows, sliding_windows

FORMAT = artifact.FORMAT  # the metadata format this reads
MIN_TARGETS = scorecard.MIN_TARGETS
CHUNK = 1024  # windows per call of the signature: bounded memory on any series


@dataclass(frozen=True)
class Export:
    """A version directory: its metadata at once, its SavedModel when first called."""

    path: Path
    metadata: dict

    @property
    def name(self) -> str:
        return self.metadata["name"]

    @property
    def trained_on(self) -> str:
        return trained_on(self.metadata)

    @cached_property
    def serve(self):
        """The function the service calls with its default runtime: model.tflite run by
        LiteRT, or the SavedModel's serving signature for an export without one."""
        try:
            spec = artifact.read(self.path)
            if (self.path / TFLITE).is_file():
                return LiteFunction(self.path / TFLITE, *spec.input_shape)
        except artifact.ArtifactError as exc:
            raise DataError(str(exc)) from None
        return _saved_model(self.path, spec.signature_name, spec.input_name)

    def __call__(self, windows: np.ndarray) -> dict[str, np.ndarray]:
        """Every signature output for `windows` (n, window, F), in chunks of CHUNK."""
        windows = np.asarray(windows, np.float32)
        parts = [self.serve(windows[i : i + CHUNK]) for i in range(0, len(windows), CHUNK)]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _saved_model(path: Path, signature: str, input_name: str):
    """The SavedModel's serving signature as a numpy-in, numpy-out call (named outputs)."""
    import tensorflow as tf

    call = tf.saved_model.load(str(path)).signatures[signature]
    return lambda batch: {k: v.numpy() for k, v in call(**{input_name: tf.constant(batch)}).items()}


def load_export(path: Path) -> Export:
    """A format-2 version directory; DataError if it is not one."""
    path = Path(path)
    meta_path = path / METADATA
    if not (path / SAVED_MODEL).is_file() or not meta_path.is_file():
        raise DataError(f"{path}: not an exported version (needs {SAVED_MODEL}, {METADATA})")
    metadata = json.loads(meta_path.read_text())
    if metadata.get("format") != FORMAT:
        raise DataError(f"{path}: metadata format {metadata.get('format')}; this reads {FORMAT}")
    return Export(path, metadata)


def _role(export: Export, role: str) -> str | None:
    outputs = export.metadata["signature"]["outputs"]
    return next((name for name, spec in outputs.items() if spec["role"] == role), None)


def stock_windows(export: Export, source: PriceData, date_from=None, date_to=None):
    """(inputs (n, window, F), last close, next close, target dates) for targets in the range,
    leaving out every window that touches an inconsistent row of `source`."""
    features, window = export.metadata["input"]["features"], export.metadata["input"]["window"]
    missing = [f for f in features if f not in source.frame.columns]
    if missing:
        raise DataError(f"{source.source}: the model needs column(s) {', '.join(missing)}")
    frame = source.frame[features]
    if len(frame) <= window:
        raise DataError(f"{source.source}: {len(frame)} rows; one window needs {window + 1}")
    close = frame["close"].to_numpy("float64")
    inputs, last, nxt, row = next_close_windows(frame.to_numpy("float64"), close, window)
    dates = frame.index.to_numpy()[row]
    keep = clean_windows(source.bad_rows, window)
    if date_from is not None:
        keep &= dates >= np.datetime64(pd.Timestamp(date_from))
    if date_to is not None:
        keep &= dates <= np.datetime64(pd.Timestamp(date_to))
    if keep.sum() < MIN_TARGETS:
        raise DataError(f"{source.source}: {int(keep.sum())} next-day closes to score in the "
                        f"range; at least {MIN_TARGETS} are needed")  # fmt: skip
    return inputs[keep], last[keep], nxt[keep], dates[keep]


def evaluate_stock(export: Export, source: PriceData, date_from=None, date_to=None):
    """(scorecard, chart series) of the next-close model on `source`'s days in the range.

    On the series the model was trained on, the headline is its out-of-sample days only
    (artifact.periods); the scorecard says which days were which.
    """
    inputs, last, nxt, dates = stock_windows(export, source, date_from, date_to)
    out = export(inputs)
    meta = export.metadata
    forecast = out[_role(export, "prediction")][:, 0]
    lower, upper = (
        out[_role(export, "interval_lower")][:, 0],
        out[_role(export, "interval_upper")][:, 0],
    )
    clean = source.frame.loc[~source.bad_rows, "close"]
    identified = periods.identify(meta["data"], source.sha256, clean.index.to_numpy(), clean)
    period = periods.labels(dates, meta["data"]["splits"], identified[0])
    drift = meta["drift"]
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    days = dates.astype("datetime64[D]").astype(str)
    try:
        card = periods.stock(period, days, nxt, last, forecast, lower, upper,
                             out[drift["output"]], drift["threshold"], meta["interval"]["level"],
                             years, identified)  # fmt: skip
    except ValueError as exc:
        raise DataError(f"{source.source}: {exc}") from None
    oos = period == periods.OUT_OF_SAMPLE
    card["data"] = {"source": source.source, "sha256": source.sha256,
                    "first_target": days[oos][0], "last_target": days[oos][-1],
                    "excluded": consistency.record(source.excluded)}  # fmt: skip
    chart = {"dates": dates, "actual": nxt, "forecast": forecast, "lower": lower, "upper": upper,
             "warned": scorecard.warned(out[drift["output"]], drift["threshold"]),
             "period": period}  # fmt: skip
    return card, chart


def evaluate_curve(export: Export, x_from: float, x_to: float, windows: int = 2000, seed: int = 0):
    """(scorecard, chart series) of a curve model on random windows inside [x_from, x_to)."""
    meta, task = export.metadata, export.trained_on
    window, step = meta["input"]["window"], meta["config"]["x_step"]
    try:
        x, straddle = series.scoring_windows(task, windows, window, step, x_from, x_to, seed)
    except ValueError as exc:
        raise DataError(f"--x-from/--x-to: {exc}") from exc
    out = export(x.astype("float32"))
    p_straddle = export(straddle.astype("float32"))["probabilities"] if len(straddle) else None
    names = {spec["role"]: name for name, spec in meta["signature"]["outputs"].items()}
    card = series.curve_card(task, x, out, straddle, p_straddle, names, meta["drift"]["threshold"])
    card["data"] = series.curve_data(x_from, x_to, step, seed)
    return card, _curve_chart(export, x_from, x_to)


def _curve_chart(export: Export, x_from: float, x_to: float) -> dict:
    """The model on consecutive grid windows across the range, for the chart."""
    meta = export.metadata
    window, step = meta["input"]["window"], meta["config"]["x_step"]
    n = int((x_to - x_from) / step)
    grid = sliding_windows((x_from + np.arange(n) * step)[:, None], window)[::window]
    out = export(grid.astype("float32"))
    truth = series.target(export.trained_on, grid).ravel().astype("float64")
    chart = {"x": grid.ravel(), "truth": truth}
    if export.trained_on == "sine":
        chart.update(y=out["y"].ravel(), lower=out["lower"].ravel(), upper=out["upper"].ravel())
    else:
        chart["p1"] = out["probabilities"][..., 1].ravel()
    chart["warned"] = np.repeat(scorecard.warned(out["drift_score"], meta["drift"]["threshold"]),
                                window)  # fmt: skip
    return chart


def evaluate(args: argparse.Namespace) -> tuple[dict, dict]:
    """The scorecard (with the model named) and the chart series for parsed arguments."""
    export = load_export(args.model)
    if export.trained_on not in TASKS:
        raise DataError(f"{args.model}: trained on {export.trained_on!r}; a scorecard needs one "
                        f"of {', '.join(TASKS)} (its config.task)")  # fmt: skip
    if export.trained_on == "stock":
        if args.csv is None and args.series is None:
            raise DataError("stock: give --csv FILE or --series NAME")
        window = export.metadata["input"]["window"]
        strict = getattr(args, "strict", False)
        source = (load_csv(args.csv, min_rows=window + MIN_TARGETS, strict=strict) if args.csv
                  else load_series(args.series, strict=strict))  # fmt: skip
        if source.excluded:
            print(consistency.summary(source.source, source.excluded), file=sys.stderr)
        card, chart = evaluate_stock(export, source, args.date_from, args.date_to)
    else:
        if args.csv or args.series:
            raise DataError(f"{export.name}: scored on a range of x (--x-from, --x-to), not a CSV")
        bounds = export.metadata["bounds"]["x"]
        x_from = bounds["min"] if args.x_from is None else args.x_from
        x_to = bounds["max"] if args.x_to is None else args.x_to
        card, chart = evaluate_curve(export, x_from, x_to, args.windows, args.seed)
    meta = export.metadata
    card = {"model": {"name": meta["name"], "version": meta["version"], "path": str(export.path),
                      "trained_on": export.trained_on}, **card}  # fmt: skip
    return card, chart


def write(card: dict, chart: dict, out: Path) -> str:
    """Write OUT.json and OUT.png; returns the printed summary (with both paths)."""
    from training import plots  # matplotlib: the `train` extra

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path, png_path = out.with_name(out.name + ".json"), out.with_name(out.name + ".png")
    json_path.write_text(json.dumps(card, indent=2, default=plain) + "\n")
    plots.scorecard_chart(card, chart, png_path)
    return f"{printout.render(card)}\nwrote {json_path} and {png_path}"
