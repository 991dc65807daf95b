"""Turn validated requests into model batches and model outputs into responses (no HTTP here)."""

import time

import anyio.to_thread
import numpy as np

from service import drift, intervals, metrics
from service.access import note_model
from service.drift import PRICES
from service.errors import InputError
from service.registry import LoadedModel
from service.schemas import (
    F32_MAX,
    F32_TINY,
    MAX_WINDOWS,
    ClassifyRequest,
    ClassifyResponse,
    SineRequest,
    SineResponse,
    StockRequest,
    StockResponse,
)


async def infer(model: LoadedModel, batch: np.ndarray) -> np.ndarray:
    """The one call site of the models: the name's micro-batcher, else a worker thread."""
    note_model(model.name, model.version)
    if model.batcher is not None:  # merged with concurrent requests (service.batching)
        output = await model.batcher.submit(model, batch)
    else:
        output = await anyio.to_thread.run_sync(timed_call, model, batch)
    if not np.all(np.isfinite(output)):
        raise InputError([], "the input is outside what the model can handle (non-finite output)")
    return output


def timed_call(model: LoadedModel, batch: np.ndarray) -> np.ndarray:
    """Run the graph, recording its latency and batch size (in the worker thread)."""
    start = time.perf_counter()
    output = model(batch)
    metrics.observe_inference(model.name, len(batch), time.perf_counter() - start)
    return output


def stock_batch(request: StockRequest, features: list[str], window: int) -> np.ndarray:
    """Every sliding window of the rows, `(n_windows, window, n_features)`, features in order."""
    rows = request.rows
    if not window <= len(rows) <= window + MAX_WINDOWS - 1:
        limits = f"between {window} and {window + MAX_WINDOWS - 1} rows"
        raise InputError(["rows"], f"must hold {limits} (got {len(rows)})")
    for i, row in enumerate(rows):
        for name in features:
            if getattr(row, name, None) is None:
                raise InputError(["rows", i, name], "is required: the model was trained with it")
    table = np.array([[getattr(row, f) for f in features] for row in rows], dtype=np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(table, window, axis=0)
    batch = np.ascontiguousarray(windows.transpose(0, 2, 1))  # (n_windows, window, features)
    _check_price_ratios(batch, features)
    return batch


def _check_price_ratios(batch: np.ndarray, features: list[str]) -> None:
    """The model takes log(price / window's last close): each ratio must be a float32 normal."""
    prices = [i for i, name in enumerate(features) if name in PRICES]
    last_close = batch[:, -1:, features.index("close")][..., np.newaxis].astype(np.float64)
    ratio = batch[..., prices].astype(np.float64) / last_close  # (n_windows, window, n_prices)
    bad = (ratio < F32_TINY) | (ratio > F32_MAX)
    if bad.any():
        w, step, k = (int(i) for i in np.argwhere(bad)[0])
        raise InputError(
            ["rows", w + step, features[prices[k]]],
            f"is {ratio[w, step, k]:.3g} times the close of row {w + batch.shape[1] - 1}; "
            "the model's log-ratio inputs need prices within a factor of 1e38 of each other",
        )


async def predict_stock(model: LoadedModel, request: StockRequest) -> StockResponse:
    batch = stock_batch(request, model.features, model.window)
    output = (await infer(model, batch))[:, 0]  # (n_windows, 1) -> n_windows
    predictions = output.tolist()
    return StockResponse(
        model=model.name,
        version=model.version,
        predictions=predictions,
        next_close=predictions[-1],
        intervals=intervals.around(model.metadata, output),
        warnings=drift.check(model, batch),
    )


def curve_batch(x: list[float] | list[list[float]], window: int) -> tuple[np.ndarray, bool]:
    """`(n_windows, window, 1)` from one window or a list of them, and whether x was nested."""
    nested = bool(x) and isinstance(x[0], list)
    windows = x if nested else [x]
    for i, values in enumerate(windows):
        if len(values) != window:
            loc, what = (["x", i], "each window must") if nested else (["x"], "must")
            raise InputError(loc, f"{what} hold exactly {window} values (got {len(values)})")
    return np.asarray(windows, dtype=np.float32)[..., np.newaxis], nested


async def predict_sine(model: LoadedModel, request: SineRequest) -> SineResponse:
    batch, nested = curve_batch(request.x, model.window)
    y = (await infer(model, batch))[..., 0]  # (n_windows, window, 1) -> (n_windows, window)
    return SineResponse(
        model=model.name,
        version=model.version,
        y=y.tolist() if nested else y[0].tolist(),
        intervals=intervals.around(model.metadata, y if nested else y[0]),
        warnings=drift.check(model, batch),
    )


async def predict_classes(model: LoadedModel, request: ClassifyRequest) -> ClassifyResponse:
    batch, nested = curve_batch(request.x, model.window)
    probabilities = await infer(model, batch)  # (n_windows, window, 2)
    classes = probabilities.argmax(axis=-1)  # (n_windows, window)
    if not nested:
        probabilities, classes = probabilities[0], classes[0]
    return ClassifyResponse(
        model=model.name,
        version=model.version,
        classes=classes.tolist(),
        probabilities=probabilities.tolist(),
        warnings=drift.check(model, batch),
    )
