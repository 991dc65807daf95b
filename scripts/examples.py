"""`make examples`: rewrite every request/answer pair the docs show from the live app.

A pair in a markdown file starts with a marker line

    <!-- example: [FILE] METHOD PATH [OPTION ...] -->

followed by a ```console block (the curl of the request) and a ```json block (the
answer). This script serves the committed models in-process (`create_app()` from
`service.main` in a `TestClient`), sends FILE's bytes to PATH (a GET has no FILE), and
writes both blocks again: the curl from the marker, the answer from the live body,
pretty-printed with every float rounded to DIGITS significant digits. An answer already
shown is kept when it agrees with the live one within the tolerance (REL_TOL): another
CPU computes the last digits of some figures differently, and rerunning this there must
leave the pages as they are. tests/test_doc_answers.py runs the same requests and fails
when a shown answer differs from the live one beyond that tolerance.

A command's output is kept the same way: the lines between

    <!-- output: python -m MODULE ARGS -->
    <!-- /output -->

are replaced by what the command prints (run from the repository root), e.g. the quality
table of `python -m training.report models`. Chart links into `models/<name>/<version>/`
are pointed at the version the app serves (from `GET /health/ready`).

Options of an example:
  keep=N          arrays longer than N + 2 items that do not fit on a line are shown as
                  their first N items, "...", the last
  keys=a,b.c      objects show only these keys (dotted for nested ones) and a "..." key
  type=T          the request's Content-Type (default application/json); type=curl sends
                  what a bare `curl -d` sends (application/x-www-form-urlencoded)
  NAME=VALUE      an upper-case NAME is a setting (an environment variable) of the app
                  that answers this example, e.g. API_KEY=demo-key

Only HTTP (routes, bodies, status codes) and `service.main.create_app` are relied on, so
a rewrite of the service's internals needs nothing here: rerun `make examples`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^<!-- example: (?P<spec>.+?) -->$")
OUTPUT = re.compile(r"^<!-- output: (?P<command>python -m .+?) -->$")
OUTPUT_END = "<!-- /output -->"
# an image link into an export, e.g. ](../models/stock/1/predictions.png)
CHART = re.compile(
    r"(?P<head>\]\((?:\.\./)?models/(?P<name>[\w-]+)/)(?P<version>\d+)(?P<tail>/[^)\s]+\))"
)
ELIDED = "..."
WIDTH = 96  # answer lines are wrapped to this width (arrays of numbers fill lines)
# Floats are shown to DIGITS significant digits: float32 carries about 7, and the last of
# them differ between CPUs (numpy's BLAS kernels, TensorFlow with or without oneDNN).
DIGITS = 6
# A shown float agrees with the live one within REL_TOL relative (ABS_TOL near zero). The
# loosest figure shown is the Diebold-Mariano statistic: a mean of differences of nearly
# equal losses, whose 5th digit moved between an Intel and an AMD machine (0.111395 and
# 0.111390, 4.5e-5 apart). Integers (versions, counts) must be equal.
REL_TOL, ABS_TOL = 1e-4, 1e-6
# every answer comes from the committed models, quietly, with nothing polling the directory
BASE_ENV = {"MODELS_DIR": str(ROOT / "models"), "RELOAD_INTERVAL_S": "0", "LOG_LEVEL": "WARNING"}
CURL_FORM = "application/x-www-form-urlencoded"  # what `curl -d` sends without -H


@dataclass(frozen=True)
class Example:
    """One marked pair: where it sits and what to send."""

    doc: Path
    line: int  # 0-based index of the marker line
    method: str
    path: str
    file: str | None = None
    keep: int | None = None
    keys: tuple[str, ...] = ()
    content_type: str | None = "application/json"
    env: tuple[tuple[str, str], ...] = field(default=())

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line + 1}"

    def body(self) -> bytes | None:
        return (ROOT / self.file).read_bytes() if self.file else None

    def curl(self, status: int) -> str:
        """The console line shown for this request (and its status when it is not 200)."""
        parts = ["curl", "-s"]
        if self.method not in ("GET", "POST") or (self.method == "POST" and not self.file):
            parts += ["-X", self.method]
        if self.method == "POST" and self.content_type == CURL_FORM:
            parts += ["-X", "POST"]
        parts.append(f"localhost:8000{self.path}")
        if self.file and self.content_type not in (None, CURL_FORM):
            parts += ["-H", f"Content-Type: {self.content_type}"]
        if self.file:
            parts += ["-d", f"@{self.file}"]
        line = "$ " + shlex.join(parts)
        if status != 200:
            line += f"   # answers {status}"
        settings = " ".join(f"{k}={v}" for k, v in self.env)
        return (
            f"$ # the server was started with: {settings} make serve\n" if settings else ""
        ) + line


def parse_spec(doc: Path, line: int, spec: str) -> Example:
    words = spec.split()
    file = None
    if words and words[0] not in ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"):
        file = words.pop(0)
    if len(words) < 2:
        raise SystemExit(f"{doc}:{line + 1}: an example needs METHOD and PATH: {spec!r}")
    method, path, *options = words
    kwargs: dict[str, Any] = {}
    env = []
    for option in options:
        name, _, value = option.partition("=")
        if name == "keep":
            kwargs["keep"] = int(value)
        elif name == "keys":
            kwargs["keys"] = tuple(value.split(","))
        elif name == "type":
            kwargs["content_type"] = {"curl": CURL_FORM, "none": None}.get(value, value)
        elif name.isupper():
            env.append((name, value))
        else:
            raise SystemExit(f"{doc}:{line + 1}: unknown option {option!r}")
    if file and not (ROOT / file).is_file():
        raise SystemExit(f"{doc}:{line + 1}: no such request file {file}")
    return Example(doc, line, method, path, file, env=tuple(env), **kwargs)


@dataclass(frozen=True)
class Output:
    """A command whose output a document shows, between its marker and OUTPUT_END."""

    doc: Path
    line: int
    command: str

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line + 1}"

    def run(self) -> str:
        words = shlex.split(self.command)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, *words[1:]], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"{self.where}: `{self.command}` failed:\n{done.stderr}")
        return done.stdout.rstrip("\n")

    def end(self, lines: list[str]) -> int:
        """The index of the OUTPUT_END line that closes this output."""
        end = next((j for j in range(self.line + 1, len(lines)) if lines[j] == OUTPUT_END), None)
        if end is None:
            raise SystemExit(f"{self.where}: no {OUTPUT_END} after the output marker")
        return end

    def shown(self) -> str:
        lines = self.doc.read_text().splitlines()
        return "\n".join(lines[self.line + 1 : self.end(lines)])


def outputs(docs: list[Path] | None = None) -> list[Output]:
    return [
        Output(doc, i, match["command"])
        for doc in docs or documents()
        for i, text in enumerate(doc.read_text().splitlines())
        if (match := OUTPUT.match(text))
    ]


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def examples(docs: list[Path] | None = None) -> list[Example]:
    found = []
    for doc in docs or documents():
        for i, text in enumerate(doc.read_text().splitlines()):
            if match := MARKER.match(text):
                found.append(parse_spec(doc, i, match["spec"]))
    return found


# ---------------------------------------------------------------- the live app


@contextlib.contextmanager
def settings_env(env: dict[str, str]) -> Iterator[None]:
    """The process environment with exactly these service settings (others unset)."""
    from service.settings import Settings

    names = {name.upper() for name in Settings.model_fields}
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.upper() in names:
            del os.environ[name]
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def client(env: tuple[tuple[str, str], ...] = ()) -> Iterator[Any]:
    """A TestClient of the app on the committed models, with its lifespan running."""
    from fastapi.testclient import TestClient

    from service.main import create_app
    from service.settings import Settings

    with settings_env({**BASE_ENV, **dict(env)}):
        settings = Settings(_env_file=None)  # read from the environment set just above
    with TestClient(create_app(settings)) as app:
        yield app


def send(app: Any, example: Example) -> tuple[int, Any]:
    headers = {"Content-Type": example.content_type} if example.content_type else {}
    response = app.request(example.method, example.path, content=example.body(), headers=headers)
    try:
        return response.status_code, response.json()
    except ValueError:
        raise SystemExit(f"{example.where}: {example.path} did not answer JSON") from None


def served(app: Any) -> dict[str, int]:
    """{model: version} the app serves. Refuses an app that is not ready or does not serve
    every model committed under models/: its answers would be 503s, not what the docs mean
    to show."""
    response = app.get("/health/ready")
    versions = {}
    if response.status_code == 200:
        versions = {str(k): int(v) for k, v in response.json()["models"].items()}
    committed = {p.name for p in (ROOT / "models").iterdir() if p.is_dir()}
    if response.status_code != 200 or committed - versions.keys():
        raise SystemExit(
            f"the app does not serve every committed model ({sorted(committed)}); "
            f"GET /health/ready answered {response.status_code}: {response.text}"
        )
    return versions


def answers(found: list[Example]) -> tuple[dict[Example, tuple[int, Any]], dict[str, int]]:
    """Every example's live (status, body), one app per distinct set of settings, and the
    versions the default app serves."""
    results: dict[Example, tuple[int, Any]] = {}
    versions: dict[str, int] = {}
    for env in dict.fromkeys([(), *(e.env for e in found)]):
        with client(env) as app:
            if not env:
                versions = served(app)
            for example in (e for e in found if e.env == env):
                results[example] = send(app, example)
    return results, versions


def chart_links(line: str, versions: dict[str, int]) -> str:
    """The line with its chart links pointed at the served version of each model."""

    def point(match: re.Match) -> str:
        version = versions.get(match["name"], match["version"])
        return f"{match['head']}{version}{match['tail']}"

    return CHART.sub(point, line)


# ---------------------------------------------------------------- showing an answer


def elide(value: Any, keep: int | None, keys: tuple[str, ...], prefix: str = "") -> Any:
    """What is shown of `value`: long arrays cut to their head and last item, and only the
    selected keys of an object, each cut marked by "..." (the test understands both)."""
    if isinstance(value, dict):
        inside = [k for k in keys if k.startswith(prefix)]
        if not inside:
            return {k: elide(v, keep, ()) for k, v in value.items()}
        shown = {}
        for k, v in value.items():
            if prefix + k in keys:  # this key whole
                shown[k] = elide(v, keep, ())
            elif any(s.startswith(f"{prefix}{k}.") for s in inside):  # some keys inside it
                shown[k] = elide(v, keep, keys, f"{prefix}{k}.")
        if len(shown) < len(value):
            shown[ELIDED] = ELIDED
        return shown
    if isinstance(value, list):
        items = [elide(v, keep, keys, prefix) for v in value]
        if keep is not None and len(items) > keep + 2 and len(json.dumps(value)) > WIDTH:
            return [*items[:keep], ELIDED, items[-1]]
        return items
    return value


def render(value: Any, indent: int = 0, lead: int = 0) -> str:
    """JSON, on one line where it fits in WIDTH, else one key or item per line; arrays of
    scalars fill their lines. Numbers are written as json.dumps writes them."""
    flat = json.dumps(value, ensure_ascii=False)
    if indent + lead + len(flat) <= WIDTH or not value or not isinstance(value, dict | list):
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            name = json.dumps(key, ensure_ascii=False) + ": "
            lines.append(pad + name + render(item, indent + 2, len(name)))
        return "{\n" + ",\n".join(lines) + "\n" + " " * indent + "}"
    if all(not isinstance(v, dict | list) for v in value):
        lines, current = [], ""
        for word in (json.dumps(v, ensure_ascii=False) for v in value):
            if current and len(pad) + len(current) + len(word) + 2 > WIDTH:
                lines.append(current + ",")
                current = ""
            current = f"{current}, {word}" if current else word
        lines.append(current)
        return "[\n" + "\n".join(pad + line for line in lines) + "\n" + " " * indent + "]"
    items = [pad + render(item, indent + 2) for item in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def rounded(value: Any) -> Any:
    """The value with every float rounded to DIGITS significant digits."""
    if isinstance(value, float):
        return float(f"{value:.{DIGITS}g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def shown_answer(example: Example, body: Any) -> str:
    return render(rounded(elide(body, example.keep, example.keys)))


def agrees(example: Example, status: int, body: Any, lines: list[str]) -> bool:
    """True if the document already shows this request and an answer within the tolerance
    of the live one: rewriting it would only change digits another CPU computes otherwise."""
    (c0, c1), (a0, a1) = pair_at(lines, example.line)
    if "\n".join(lines[c0 + 1 : c1 - 1]) != example.curl(status) or a1 == a0:
        return False
    try:
        shown = json.loads("\n".join(lines[a0 + 1 : a1 - 1]))
    except ValueError:
        return False
    fresh = json.loads(shown_answer(example, body))  # what would be shown: same keys and cuts
    return skeleton(shown) == skeleton(fresh) and not differences(shown, body)


def skeleton(value: Any) -> Any:
    """The value with every float replaced by 0.0: its shape, keys and other values."""
    if isinstance(value, float):
        return 0.0
    if isinstance(value, dict):
        return {k: skeleton(v) for k, v in value.items()}
    if isinstance(value, list):
        return [skeleton(v) for v in value]
    return value


def block(lang: str, text: str) -> list[str]:
    return [f"```{lang}", *text.splitlines(), "```"]


def skip_block(lines: list[str], i: int, langs: tuple[str, ...]) -> int:
    """The index after the fenced block starting at lines[i], if it is one of `langs`."""
    if i < len(lines) and lines[i].strip() in tuple(f"```{lang}" for lang in langs):
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
        if end is None:
            raise SystemExit(f"unclosed code block at line {i + 1}")
        return end + 1
    return i


def pair_at(lines: list[str], marker: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Line ranges [start, end) of the console block and the answer block after a marker."""
    console = (marker + 1, skip_block(lines, marker + 1, ("console",)))
    answer = (console[1], skip_block(lines, console[1], ("json",)))
    return console, answer


def shown_pair(example: Example) -> tuple[str, str]:
    """The console text and answer text a document shows for this example ('' if none)."""
    lines = example.doc.read_text().splitlines()
    (c0, c1), (a0, a1) = pair_at(lines, example.line)
    return "\n".join(lines[c0 + 1 : c1 - 1]), "\n".join(lines[a0 + 1 : a1 - 1])


def rewrite(
    doc: Path,
    live: dict[Example, tuple[int, Any]],
    printed: dict[Output, str],
    versions: dict[str, int],
    keep: bool = True,
) -> bool:
    """Rewrite the pairs and outputs of one document, from its last marker up; True if it
    changed. With `keep`, an answer within the tolerance of the live one stays as shown."""
    lines = doc.read_text().splitlines()
    before = list(lines)
    regions = []  # (marker line, end of the region, its new lines)
    for example, (status, body) in live.items():
        if example.doc == doc:
            if keep and agrees(example, status, body, lines):
                continue
            _, (_, end) = pair_at(lines, example.line)
            answer = block("json", shown_answer(example, body))
            regions.append((example.line, end, block("console", example.curl(status)) + answer))
    for output, text in printed.items():
        if output.doc == doc:
            regions.append((output.line, output.end(lines), text.splitlines()))
    for line, end, fresh in sorted(regions, key=lambda r: -r[0]):
        lines[line + 1 : end] = fresh
    lines = [chart_links(line, versions) for line in lines]
    if lines != before:
        doc.write_text("\n".join(lines) + "\n")
    return lines != before


# ---------------------------------------------------------------- comparing (for the test)


def differences(shown: Any, live: Any, where: str = "answer") -> list[str]:
    """How a shown answer differs from the live one: floats agree within REL_TOL relative
    (ABS_TOL near zero), which covers the rounding to DIGITS digits and what another CPU
    computes in the last ones; everything else (integers, strings, keys, lengths) must be
    equal."""
    if isinstance(shown, dict) and isinstance(live, dict):
        partial = shown.get(ELIDED) == ELIDED
        keys = [k for k in shown if not (partial and k == ELIDED)]
        problems = [f"{where}: no key {k!r} in the live answer" for k in keys if k not in live]
        if not partial:
            problems += [f"{where}: key {k!r} is not shown" for k in live if k not in shown]
        for k in keys:
            if k in live:
                problems += differences(shown[k], live[k], f"{where}.{k}")
        return problems
    if isinstance(shown, list) and isinstance(live, list):
        if ELIDED in shown:  # the head, "...", the tail
            cut = shown.index(ELIDED)
            head, tail = shown[:cut], shown[cut + 1 :]
            if len(live) < len(head) + len(tail):
                return [f"{where}: {len(live)} items live, more are shown"]
            indices = [*range(len(head)), *range(len(live) - len(tail), len(live))]
            items = head + tail
        else:
            if len(shown) != len(live):
                return [f"{where}: {len(shown)} items shown, {len(live)} live"]
            indices, items = list(range(len(live))), shown
        return [
            problem
            for i, item in zip(indices, items, strict=True)
            for problem in differences(item, live[i], f"{where}[{i}]")
        ]
    if isinstance(shown, float) and isinstance(live, float):
        if not math.isclose(shown, live, rel_tol=REL_TOL, abs_tol=ABS_TOL):
            return [f"{where}: {shown!r} shown, {live!r} live"]
        return []
    if type(shown) is not type(live) or shown != live:
        return [f"{where}: {shown!r} shown, {live!r} live"]
    return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("docs", nargs="*", type=Path, help="markdown files (default: all)")
    every = "rewrite every answer, also one within the tolerance (e.g. after changing DIGITS)"
    parser.add_argument("--every", action="store_true", help=every)
    args = parser.parse_args()
    docs = [p.resolve() for p in args.docs] or documents()
    found = examples(docs)
    live, versions = answers(found)
    printed = {output: output.run() for output in outputs(docs)}
    for doc in docs:
        changed = rewrite(doc, live, printed, versions, keep=not args.every)
        count = sum(e.doc == doc for e in found) + sum(o.doc == doc for o in printed)
        state = "rewritten" if changed else "as shown"
        print(f"{doc.relative_to(ROOT)}: {count} examples and outputs, {state}")
    if not args.docs:  # the gRPC page's snippets, run the same way
        import grpc_examples

        print(f"docs/grpc.md: gRPC snippets, {'rewritten' if grpc_examples.main() else 'as shown'}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
