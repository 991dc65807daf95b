"""Log lines: one JSON object each (uvicorn's access log too), or readable text."""

import json
import logging

import httpx

from service.core import context
from service.core.logs import JsonFormatter, TextFormatter
from service.examples import SINE_X
from service.main import create_app
from service.settings import Settings
from tests.service.in_memory import stand_in
from tests.service.live import served


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_uvicorn_access_log_is_json_with_request_fields(models_dir, capsys):
    with served(Settings(models_dir=models_dir, log_format="json")) as url:
        sent = httpx.post(
            f"{url}/predict/sine", json={"x": SINE_X}, headers={"x-request-id": "t-42"}
        )
        assert sent.status_code == 200
        assert httpx.get(f"{url}/models/no-such-model").status_code == 404
    lines = json_lines(capsys.readouterr().err)  # every line parses, or this raises
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    sine, missing = access
    assert sine["request_id"] == "t-42" and len(missing["request_id"]) >= 16
    assert sine["route"] == "/predict/sine" and sine["status"] == 200
    assert sine["model"] == "sine" and sine["version"] >= 1
    assert sine["duration_ms"] > 0 and '"POST /predict/sine HTTP/1.1" 200' in sine["message"]
    assert missing["route"] == "/models/{name}" and missing["status"] == 404
    assert "model" not in missing
    assert {"time", "level", "logger", "message"} <= set(sine)
    assert any(line["message"].startswith("ready: serving") for line in lines)
    assert any(line["logger"] == "uvicorn.error" for line in lines)  # uvicorn's own lines too


def test_text_format_is_readable(models_dir, capsys):
    with served(Settings(models_dir=models_dir, log_format="text")) as url:
        httpx.post(f"{url}/predict/sine", json={"x": SINE_X})
    out = capsys.readouterr().err
    access = next(line for line in out.splitlines() if "uvicorn.access" in line)
    assert not access.startswith("{")
    assert " INFO uvicorn.access: " in access and '"POST /predict/sine HTTP/1.1" 200' in access
    assert "route=/predict/sine status=200" in access and "model=sine" in access
    assert "request_id=" in access


def record(msg: str, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("service.test", logging.ERROR, __file__, 1, msg, (), exc_info)


def test_json_line_carries_request_id_and_traceback_on_one_line():
    token = context.current.set(context.Request("abc-123"))
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        line = JsonFormatter().format(record("failed", sys.exc_info()))
    finally:
        context.current.reset(token)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["request_id"] == "abc-123" and parsed["level"] == "ERROR"
    assert parsed["message"] == "failed" and "ValueError: boom" in parsed["exc"]


def test_unexpected_500_is_one_traceback_in_the_server_log(fake_models_dir, capsys):
    def broken(spec):
        def graph(batch):
            raise RuntimeError("boom in the graph")

        return graph

    settings = Settings(models_dir=fake_models_dir, log_format="json", reload_interval_s=0)
    with served(settings, create_app(settings, load=stand_in(broken))) as url:
        headers = {"x-request-id": "t-500"}
        sent = httpx.post(f"{url}/predict/sine", json={"x": SINE_X}, headers=headers)
    assert sent.status_code == 500 and sent.json() == {"error": "internal error", "detail": []}
    err = capsys.readouterr().err
    assert err.count("Traceback (most recent call last)") == 1, err
    lines = json_lines(err[err.index("{") :])  # from the app's own lines on, each one JSON
    (failed,) = [line for line in lines if "exc" in line]  # the traceback sits inside one line
    assert failed["request_id"] == "t-500" and failed["route"] == "/predict/sine"
    assert "RuntimeError: boom in the graph" in failed["exc"]
    (access,) = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert access["status"] == 500 and access["request_id"] == "t-500"


def test_a_key_in_the_query_string_never_reaches_the_access_log(models_dir, capsys):
    with served(Settings(models_dir=models_dir, log_format="json")) as url:
        httpx.get(f"{url}/health/live?api_key=s3cret-value&x=1")
    out = capsys.readouterr().err
    assert "s3cret-value" not in out and "api_key=***&x=1" in out


def test_lines_outside_a_request_have_no_request_fields():
    parsed = json.loads(JsonFormatter().format(record("idle")))
    assert set(parsed) == {"time", "level", "logger", "message"}
    assert TextFormatter().format(record("idle")).endswith("ERROR service.test: idle")
