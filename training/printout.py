"""The lines `python -m training evaluate` prints: a scorecard as a person reads it."""

from __future__ import annotations

from artifact import scorecard


def render(card: dict) -> str:
    """A few lines a person reads: the metric against its baseline and what matters beside it."""
    m, d = card["model"], card["data"]
    head = f"{m['name']} v{m['version']} ({m['path']})"
    if m["trained_on"] == "stock":
        dm, da, band = card["diebold_mariano"], card["directional_accuracy"], card["interval"]
        return "\n".join([
            f"{head} on {d['source']}, {card['windows']} next-day closes "
            f"{d['first_target']} .. {d['last_target']}",
            f"  MAPE {card['mape']:.3f}%  persistence {card['persistence_mape']:.3f}%  "
            f"ratio {_number(card['mape_ratio'], '.4f')}",
            f"  RMSE {card['rmse']:.4g}  persistence {card['persistence_rmse']:.4g}",
            f"  Diebold-Mariano (abs. % error, HLN) {dm['statistic']:+.3f}, p {dm['p_value']:.3g}"
            f"  (squared error: {dm['squared_error']['statistic']:+.3f}, "
            f"p {dm['squared_error']['p_value']:.3g})",
            f"  direction right {_number(da['model'], '.1%')} of {da['days']} days (always up: "
            f"{_number(da['always_up'], '.1%')})",
            f"  {band['level']:.0%} interval covers {band['coverage']:.1%} "
            f"(mean width {band['mean_width_percent']:.2f}%)" + _rolling_text(band),
            *_by_year_text(band),
            f"  the service would warn on {card['warned_windows']:.1%} of the windows",
            *_scope_text(card),
        ])  # fmt: skip
    lines = [f"{head} on {card['windows']} random windows in x [{d['x_from']:g}, {d['x_to']:g})"]
    if m["trained_on"] == "sine":
        worst = card["worst_window"]
        lines += [f"  MSE {card['mse']:.3g}  baseline (0) {card['baseline_mse']:.3g}",
                  f"  worst window MSE {worst['mse']:.3g} (x from {worst['x_start']:.4g}); "
                  f"{card['windows_over_bound']['share']:.1%} over "
                  f"{card['windows_over_bound']['bound']:g}"]  # fmt: skip
        if "interval" in card:
            lines.append(f"  interval covers {card['interval']['coverage']:.1%} of the values")
    else:
        lines.append(f"  per-step accuracy {card['accuracy']:.3%}  majority "
                     f"{card['baseline_accuracy']:.2%}")  # fmt: skip
        if "straddling" in card:
            s = card["straddling"]
            lines.append(
                f"  on {s['windows']} windows straddling a sign change: "
                f"{s['accuracy']:.2%} (majority {s['baseline_accuracy']:.2%})"
            )
    lines.append(f"  the service would warn on {card['warned_windows']:.1%} of the windows")
    return "\n".join(lines)


def _scope_text(card: dict) -> list[str]:
    """Which days the headline holds, the other periods' figures, the rows left out."""
    scope, lines = card["scope"], []
    if scope["trained_on_this_series"]:
        lines.append("  the figures above are out-of-sample days only; the model was trained on "
                     "this series:")  # fmt: skip
        for name, p in scope["periods"].items():
            lines.append(f"    {name.replace('_', '-')} {p['first_target']} .. {p['last_target']}"
                         f" ({p['days']} days): MAPE {p['mape']:.3f}% ratio "
                         f"{_number(p['mape_ratio'], '.4f')}, coverage "
                         f"{p['interval_coverage']:.1%}")  # fmt: skip
    else:
        lines.append(f"  every day is out-of-sample: {scope['why']}")
    excluded = card["data"].get("excluded", {}).get("rows", 0)
    if excluded:
        lines.append(f"  {excluded} inconsistent row(s) of the data left out, with every window "
                     "touching them (data.excluded)")  # fmt: skip
    return lines


def _by_year_text(band: dict, per_line: int = 8) -> list[str]:
    years = list(band.get("by_year", {}).items())
    return [("  coverage by year: " if i == 0 else "                    ")
            + "  ".join(f"{y} {v:.0%}" for y, v in years[i : i + per_line])
            for i in range(0, len(years), per_line)]  # fmt: skip


def _number(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _rolling_text(band: dict) -> str:
    rolling = band.get(f"rolling_{scorecard.ROLLING_DAYS}_days")
    if rolling is None:
        return ""
    return (f"; over any {scorecard.ROLLING_DAYS} days {rolling['min']:.1%} .. "
            f"{rolling['max']:.1%}")  # fmt: skip
