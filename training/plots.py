"""PNG charts written beside each export: test-period fit, and loss by epoch."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import numpy as np

from training.fit import Trained

# The stock chart shows the end of the test period, where single days can still be told apart.
LAST_DAYS = 120


def write_all(trained: Trained, directory: Path) -> list[Path]:
    """predictions.png and loss.png in `directory`; returns their paths."""
    draw = {"stock": _stock, "sine": _sine, "classify": _classify}[trained.config.task]
    paths = [_save(draw(trained), directory / "predictions.png"),
             _save(_loss(trained), directory / "loss.png")]  # fmt: skip
    return paths


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def _stock(trained: Trained):
    c = {k: v[-LAST_DAYS:] for k, v in trained.curves.items()}
    days = np.arange(len(c["actual"]))
    test = trained.metadata["metrics"]["test"]
    level = trained.metadata["interval"]["level"]
    figure, axis = plt.subplots(figsize=(9, 4))
    axis.fill_between(days, c["lower"], c["upper"], alpha=0.25, label=f"{level:.0%} interval")
    axis.plot(days, c["actual"], color="black", lw=1.2, label="actual close")
    axis.plot(days, c["forecast"], color="tab:blue", lw=1.0, label="forecast")
    ticks = days[:: max(1, len(days) // 6)]
    axis.set_xticks(ticks, [c["dates"][i] for i in ticks], fontsize=8)
    axis.set_title(f"Next-day close, last {len(days)} test days: MAPE {test['mape']:.3f}% "
                   f"vs persistence {test['persistence_mape']:.3f}%", fontsize=10)  # fmt: skip
    axis.legend(fontsize=8)
    return figure


def _sine(trained: Trained):
    c = trained.curves
    interval = trained.metadata["interval"]
    fitted = c["output"][:, 0]
    # per-step bands repeat window after window along the grid
    steps = len(fitted) // len(np.atleast_1d(interval["lower"]))
    lower, upper = (np.tile(interval[k], steps) if np.ndim(interval[k]) else interval[k]
                    for k in ("lower", "upper"))  # fmt: skip
    figure, axis = plt.subplots(figsize=(9, 3.5))
    axis.fill_between(c["x"], fitted + lower, fitted + upper, alpha=0.3,
                      label=f"{interval['level']:.0%} interval")  # fmt: skip
    axis.plot(c["x"], c["truth"], color="black", lw=1.2, label="cos(x)")
    axis.plot(c["x"], fitted, color="tab:blue", lw=1.0, ls="--", label="model")
    mse = trained.metadata["metrics"]["test"]["mse"]
    axis.set_title(f"cos(x) over the training range, consecutive windows of 20: test MSE {mse:.2e}",
                   fontsize=10)  # fmt: skip
    axis.set_xlabel("x")
    axis.legend(fontsize=8)
    return figure


def _classify(trained: Trained):
    c = trained.curves
    figure, axis = plt.subplots(figsize=(9, 3.5))
    axis.plot(c["x"], c["truth"], color="black", lw=1.2, label="true class (cos(4x) < 0)")
    axis.plot(c["x"], c["output"][:, 1], color="tab:orange", lw=1.0, label="p(class 1)")
    accuracy = trained.metadata["metrics"]["test"]["accuracy"]
    axis.set_title(f"Sign of cos(4x): test accuracy {accuracy:.2%} per step", fontsize=10)
    axis.set_xlabel("x")
    axis.legend(fontsize=8)
    return figure


def _loss(trained: Trained):
    history = trained.history
    epochs = np.arange(1, len(history["loss"]) + 1)
    figure, axis = plt.subplots(figsize=(6, 3.5))
    axis.plot(epochs, history["loss"], label="training")
    axis.plot(epochs, history["val_loss"], label="validation")
    axis.set_yscale("log")
    axis.set_xlabel("epoch")
    axis.set_title(f"{trained.config.task}: loss by epoch", fontsize=10)
    axis.legend(fontsize=8)
    return figure


def scorecard_chart(card: dict, chart: dict, path: Path) -> Path:
    """The chart of an evaluation: the series with the model over it, and what went wrong where."""
    draw = {"stock": _stock_scorecard, "sine": _sine_scorecard,
            "classify": _classify_scorecard}[card["model"]["trained_on"]]  # fmt: skip
    return _save(draw(card, chart), path)


def _rolling(values: np.ndarray, days: int) -> np.ndarray:
    kernel = np.ones(days) / days
    return np.convolve(values.astype(float), kernel, mode="valid")


PERIOD_SHADE = {"in_sample": ("0.85", "in-sample (fitted on)"),
                "validation": ("wheat", "validation (tuned on)")}  # fmt: skip


def _stock_scorecard(card: dict, c: dict):
    """Top: the close and the band over every day, the days the model was fitted or tuned on
    shaded. Bottom, out-of-sample days only: rolling and per-year coverage, and the MAE ratio."""
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.4), sharex=True,
                                         gridspec_kw={"height_ratios": [2, 1.2]})  # fmt: skip
    dates = c["dates"].astype("datetime64[D]")
    level = card["interval"]["level"]
    top.fill_between(dates, c["lower"], c["upper"], alpha=0.3, color="tab:blue",
                     label=f"{level:.0%} interval")  # fmt: skip
    top.plot(dates, c["actual"], color="black", lw=0.6, label="actual close")
    if c["warned"].any():
        top.scatter(dates[c["warned"]], c["actual"][c["warned"]], s=6, color="tab:red",
                    label="service would warn", zorder=3)  # fmt: skip
    for name, (color, label) in PERIOD_SHADE.items():
        days = dates[c["period"] == name]
        if len(days):
            for axis in (top, bottom):
                axis.axvspan(days[0], days[-1], color=color, alpha=0.5, lw=0,
                             label=label if axis is top else None)  # fmt: skip
    top.set_yscale("log")
    scope = ("out-of-sample days only" if card["scope"]["trained_on_this_series"]
             else "every day out-of-sample (not the training series)")  # fmt: skip
    top.set_title(f"{card['data']['source']}, {scope}: MAPE {card['mape']:.3f}% vs persistence "
                  f"{card['persistence_mape']:.3f}% (ratio {card['mape_ratio']:.3f}); interval "
                  f"coverage {card['interval']['coverage']:.1%}", fontsize=9)  # fmt: skip
    top.legend(fontsize=7, loc="upper left")
    _coverage_panel(bottom, card, {k: v[c["period"] == "out_of_sample"] for k, v in c.items()})
    return figure


def _coverage_panel(axis, card: dict, c: dict) -> None:
    """Rolling and per-year interval coverage and the rolling MAE ratio, on the days given."""
    dates, level = c["dates"].astype("datetime64[D]"), card["interval"]["level"]
    days = min(250, len(dates))
    inside = (c["actual"] >= c["lower"]) & (c["actual"] <= c["upper"])
    ratio = _rolling(np.abs(c["forecast"] - c["actual"]), days) / np.maximum(
        _rolling(np.abs(np.r_[c["actual"][0], c["actual"][:-1]] - c["actual"]), days), 1e-12
    )
    rolling = _rolling(inside, days)
    axis.plot(
        dates[days - 1 :],
        rolling,
        color="tab:blue",
        label=f"coverage over the previous {days} days: {rolling.min():.1%} .. {rolling.max():.1%}",
    )
    years = dates.astype("datetime64[Y]")
    full = [y for y in np.unique(years) if (years == y).sum() >= 20]  # a few days say nothing
    for i, year in enumerate(full):
        start, end = year.astype("datetime64[D]"), (year + 1).astype("datetime64[D]")
        axis.hlines(inside[years == year].mean(), start, end, color="tab:green", lw=2,
                    label="coverage by calendar year" if i == 0 else None)  # fmt: skip
    axis.axhline(level, color="tab:blue", ls=":", lw=1)
    axis.plot(dates[days - 1 :], ratio, color="tab:orange", label="MAE / persistence MAE")
    axis.axhline(1.0, color="tab:orange", ls=":", lw=1)
    axis.set_title("out-of-sample days", fontsize=8, loc="right")
    axis.legend(fontsize=7, loc="lower left")


def _sine_scorecard(card: dict, c: dict):
    figure, axis = plt.subplots(figsize=(10, 3.8))
    axis.fill_between(c["x"], c["lower"], c["upper"], alpha=0.3, label="interval")
    axis.plot(c["x"], c["truth"], color="black", lw=1.2, label="cos(x)")
    axis.plot(c["x"], c["y"], color="tab:blue", lw=1.0, ls="--", label="model")
    _shade_warned(axis, c)
    worst = card["worst_window"]
    axis.set_title(f"cos(x), x in [{card['data']['x_from']:g}, {card['data']['x_to']:g}): MSE "
                   f"{card['mse']:.2e} over {card['windows']} random windows, worst "
                   f"{worst['mse']:.2e}", fontsize=10)  # fmt: skip
    axis.set_xlabel("x")
    axis.legend(fontsize=8)
    return figure


def _classify_scorecard(card: dict, c: dict):
    figure, (top, bottom) = plt.subplots(1, 2, figsize=(11, 3.8),
                                         gridspec_kw={"width_ratios": [3, 1]})  # fmt: skip
    top.plot(c["x"], c["truth"], color="black", lw=1.2, label="true class (cos(4x) < 0)")
    top.plot(c["x"], c["p1"], color="tab:orange", lw=1.0, label="p(class 1)")
    _shade_warned(top, c)
    top.set_xlabel("x")
    top.legend(fontsize=8)
    line = f"per-step accuracy {card['accuracy']:.3%}"
    if "straddling" in card:
        line += f"; straddling a sign change {card['straddling']['accuracy']:.2%}"
    top.set_title(f"Sign of cos(4x): {line}", fontsize=10)
    bottom.bar(np.arange(len(card["by_step"])), card["by_step"], color="tab:orange")
    bottom.set_ylim(min(card["by_step"]) - 0.005, 1.0)
    bottom.set_xlabel("step in window")
    bottom.set_title("accuracy by step", fontsize=10)
    return figure


def _shade_warned(axis, c: dict) -> None:
    if c["warned"].any():
        axis.fill_between(
            c["x"],
            0,
            1,
            where=c["warned"],
            color="tab:red",
            alpha=0.1,
            transform=axis.get_xaxis_transform(),
            label="service would warn",
        )
