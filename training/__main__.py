"""`python -m training {stock,sine,classify,all}`: train, evaluate against a baseline, export."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from training.config import TASKS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training",
        description="Train the LSTM models, measure them on data they never saw against a naive "
        "baseline, and export TensorFlow SavedModels to OUT/<name>/<version>/.",
    )
    parser.add_argument("task", choices=[*TASKS, "all"], help="which model to train")
    parser.add_argument("--csv", type=Path, help="stock only: train on this daily CSV instead "
                        "of the S&P 500 series shipped by `arch`")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("models"), help="models directory "
                        "(default: models); each export adds a new version")  # fmt: skip
    parser.add_argument("--epochs", type=int, help="maximum epochs (early stopping may end sooner)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--tensorboard", type=Path, metavar="DIR",
                        help="also write TensorBoard logs to DIR/<task>")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.csv and args.task not in ("stock",):
        parser.error("--csv applies to the stock task only")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from training.data import DataError
    from training.export import export
    from training.report import summary
    from training.train import train

    tasks = TASKS if args.task == "all" else (args.task,)
    board = str(args.tensorboard) if args.tensorboard else None
    rows = []
    for task in tasks:
        print(f"== training {task}", flush=True)
        try:
            trained = train(task, csv=args.csv, verbose=0 if args.quiet else 1,
                            epochs=args.epochs, seed=args.seed, tensorboard=board)  # fmt: skip
        except DataError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        path = export(trained, args.out)
        print(f"== exported {path}", flush=True)
        rows.append((path, trained))
    print(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
