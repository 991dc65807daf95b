"""`python -m training {stock,sine,classify,all}`: train, evaluate against a baseline, export.

`python -m training evaluate models/<name>/<v> ...`: score an export on data it never saw.
`python -m training lite MODELS_DIR`: add `model.tflite` to versions exported without one.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

from artifact.metadata import NAME, trained_on
from training.config import TASKS
from training.data import SERIES

EVALUATIONS = Path("evaluations")  # evaluate's default folder (git ignores it)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training",
        description="Train the LSTM models, measure them on data they never saw against a naive "
        "baseline, and export TensorFlow SavedModels to OUT/<name>/<version>/.",
        epilog="python -m training evaluate --help: score an exported version on new data. "
        "python -m training lite MODELS_DIR: add model.tflite to versions without one.",
    )
    parser.add_argument("task", choices=[*TASKS, "all"], help="which model to train")
    parser.add_argument("--csv", type=Path, help="stock only: train on this daily CSV instead "
                        "of the S&P 500 series shipped by `arch`")  # fmt: skip
    parser.add_argument(
        "--strict",
        action="store_true",
        help="stock --csv: refuse a file with "
        "an inconsistent row (by default its windows are left out and listed)",
    )
    parser.add_argument("--out", type=Path, default=Path("models"), help="models directory "
                        "(default: models); each export adds a new version")  # fmt: skip
    parser.add_argument("--name", help="export under this model name (default: the task's), "
                        "served at /predict/NAME, /v1/models/NAME and /v2/models/NAME")  # fmt: skip
    parser.add_argument("--epochs", type=int, help="maximum epochs (early stopping may end sooner)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--tensorboard", type=Path, metavar="DIR",
                        help="also write TensorBoard logs to DIR/<task>")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.csv and args.task not in ("stock",):
        parser.error("--csv applies to the stock task only")
    if args.strict and not args.csv:
        parser.error("--strict applies to --csv only")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.name is not None and args.task == "all":
        parser.error("--name names one model: give one task")
    if args.name is not None and not NAME.fullmatch(args.name):
        parser.error(f"--name {args.name!r}: 1 to 64 ASCII letters, digits, '_', '.', '-', "
                     "starting with a letter or digit")  # fmt: skip
    return args


def parse_evaluate_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training evaluate",
        description="Score an exported version on data it never saw, through its serving "
        "signature: the metric against its naive baseline, interval coverage, the share of "
        "windows the service would warn about; for stock also a Diebold-Mariano test and "
        "directional accuracy. Prints the scorecard and writes OUT.json and OUT.png.",
    )
    parser.add_argument("model", type=Path, help="a version directory, e.g. models/stock/2")
    parser.add_argument("--csv", type=Path, help="stock: a daily CSV (either layout training "
                        "reads)")  # fmt: skip
    parser.add_argument("--series", choices=SERIES, help="stock: a series shipped in a package: "
                        "sp500, nasdaq (`arch`), goog (`backtesting`), or synthetic")  # fmt: skip
    parser.add_argument("--from", dest="date_from", metavar="DATE",
                        help="stock: score next-day closes from this date on")  # fmt: skip
    parser.add_argument("--to", dest="date_to", metavar="DATE",
                        help="stock: score next-day closes up to this date")  # fmt: skip
    parser.add_argument("--x-from", type=float, help="sine/classify: start of the x range "
                        "(default: the trained range's)")  # fmt: skip
    parser.add_argument("--x-to", type=float, help="sine/classify: end of the x range "
                        "(default: the trained range's)")  # fmt: skip
    parser.add_argument("--windows", type=int, default=2000,
                        help="sine/classify: random windows to score (default: 2000)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="sine/classify: seed of the windows")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="stock: refuse a series with an "
        "inconsistent row (by default its windows are left out and listed)",
    )
    parser.add_argument("--out", type=Path, help="write OUT.json and OUT.png (default: "
                        f"{EVALUATIONS}/scorecard-<name>-<version>)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.csv and args.series:
        parser.error("give --csv or --series, not both")
    if args.windows < 1:
        parser.error("--windows must be at least 1")
    for option in ("date_from", "date_to"):
        value = getattr(args, option)
        try:
            setattr(args, option, value and datetime.date.fromisoformat(value))
        except ValueError:
            parser.error(f"--{option[5:]}: {value!r} is not a date (YYYY-MM-DD)")
    return args


def trained_elsewhere(model_dir: Path, task: str) -> list[str]:
    """The versions under `model_dir` trained on another task than `task` (by their
    metadata's config.task), as "<version> (<task>)"; unreadable ones are not counted."""
    found = []
    for meta in sorted(model_dir.glob("*/metadata.json")):
        try:
            other = trained_on(json.loads(meta.read_text()))
        except (OSError, ValueError, AttributeError):
            continue
        if other != task:
            found.append(f"{meta.parent.name} ({other})")
    return found


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # TensorFlow's C++ log lines, set before it is imported: 3 drops its errors too, since
    # with this Keras every tf.data map logs a harmless "E0000 ... use_unbounded_threadpool"
    # line; real failures still raise in Python. TF_CPP_MIN_LOG_LEVEL=0 shows them all.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if argv[:1] == ["evaluate"]:
        return evaluate_main(parse_evaluate_args(argv[1:]))
    if argv[:1] == ["lite"]:
        from training.lite import main as lite_main

        return lite_main(argv[1:])
    args = parse_args(argv)
    for task in TASKS if args.task == "all" else (args.task,):
        name = args.name or task
        others = trained_elsewhere(args.out / name, task)
        if others:  # its next version would change what /predict/<name> takes and answers
            print(
                f"error: {args.out / name} holds versions trained on other data: "
                f"{', '.join(others)}; export {task} under another --name",
                file=sys.stderr,
            )
            return 2
    from artifact.consistency import summary as summary_of_excluded
    from training.data import DataError, load_csv

    if args.csv:  # a bad file is refused before TensorFlow loads, in a moment
        try:
            source = load_csv(args.csv, strict=args.strict)
        except DataError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if source.excluded:
            print(summary_of_excluded(source.source, source.excluded), file=sys.stderr)
    # TensorFlow loads only once the arguments are known to be good (a --help stays instant).
    from training.export import export
    from training.report import summary
    from training.train import train

    tasks = TASKS if args.task == "all" else (args.task,)
    board = str(args.tensorboard) if args.tensorboard else None
    rows = []
    for task in tasks:
        print(f"== training {task}", flush=True)
        try:
            trained = train(task, csv=args.csv, verbose=0 if args.quiet else 1, strict=args.strict,
                            epochs=args.epochs, seed=args.seed, tensorboard=board)  # fmt: skip
        except DataError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        path = export(trained, args.out, args.name)
        print(f"== exported {path}", flush=True)
        rows.append((path, trained))
    print(summary(rows))
    return 0


def evaluate_main(args: argparse.Namespace) -> int:
    from training.data import DataError
    from training.evaluate import evaluate, write

    try:
        card, chart = evaluate(args)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    model = card["model"]
    out = args.out or EVALUATIONS / f"scorecard-{model['name']}-{model['version']}"
    print(write(card, chart, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
