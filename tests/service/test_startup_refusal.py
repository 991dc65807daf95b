"""`python -m service` refuses a bad setting or file before anything loads: one log line
naming the setting or path, the value and the rule; no traceback; exit 2 for a bad
setting, 3 when MODELS_DIR holds nothing to serve (docs/limits.md)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {name.upper() for name in Settings.model_fields}


def run(cwd: Path, env: dict[str, str], *args: str) -> tuple[int, list[str]]:
    """Exit code and output lines of `python -m service` (JSON log lines by default)."""
    clean = {k: v for k, v in os.environ.items() if k.upper() not in SETTINGS}
    clean |= {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2", **env}
    done = subprocess.run([sys.executable, "-m", "service", *args], cwd=cwd, env=clean,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    return done.returncode, (done.stdout + done.stderr).splitlines()


def refusal(cwd: Path, env: dict[str, str], code: int, *fragments: str) -> dict:
    """Runs the service, asserts one JSON ERROR line holding `fragments`, returns it."""
    exit_code, lines = run(cwd, env)
    assert exit_code == code, lines
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    line = json.loads(lines[0])
    assert line["level"] == "ERROR" and line["message"].startswith("refusing to start: "), line
    for fragment in fragments:
        assert fragment in line["message"], line
    return line


@pytest.fixture
def models(tmp_path) -> Path:
    """A models directory the pre-check accepts (it reads names only, nothing loads)."""
    (tmp_path / "models" / "sine" / "1").mkdir(parents=True)
    return tmp_path / "models"


def test_missing_models_dir_exits_2(tmp_path):
    missing = tmp_path / "nowhere"
    refusal(tmp_path, {"MODELS_DIR": str(missing)}, 2, "MODELS_DIR", str(missing), "does not exist")


def test_models_dir_that_is_a_file_exits_2(tmp_path):
    (tmp_path / "file").write_text("")
    refusal(tmp_path, {"MODELS_DIR": str(tmp_path / "file")}, 2, "is not a directory")


def test_empty_models_dir_exits_3(tmp_path):
    (tmp_path / "empty").mkdir()
    refusal(tmp_path, {"MODELS_DIR": str(tmp_path / "empty")}, 3, str(tmp_path / "empty"),
            "holds no model to serve", "<name>/<version>/")  # fmt: skip


def test_models_dir_without_a_digit_version_exits_3(tmp_path):
    for version in ("latest", "٣", "²"):  # not ASCII digits: never a version
        (tmp_path / "models" / "sine" / version).mkdir(parents=True)
    refusal(tmp_path, {"MODELS_DIR": str(tmp_path / "models")}, 3, "holds no model to serve")


def test_missing_api_key_file_exits_2(tmp_path, models):
    key = tmp_path / "secret" / "key"
    env = {"MODELS_DIR": str(models), "API_KEY_FILE": str(key)}
    refusal(tmp_path, env, 2, "API_KEY_FILE", str(key), "does not exist")


def test_empty_api_key_file_exits_2(tmp_path, models):
    (tmp_path / "key").write_text(" \n")
    env = {"MODELS_DIR": str(models), "API_KEY_FILE": str(tmp_path / "key")}
    refusal(tmp_path, env, 2, "API_KEY_FILE", "is empty")


def test_api_key_file_that_is_a_directory_exits_2(tmp_path, models):
    env = {"MODELS_DIR": str(models), "API_KEY_FILE": str(tmp_path)}
    refusal(tmp_path, env, 2, "API_KEY_FILE", "is not a file")


def test_blank_api_key_exits_2_without_showing_it(tmp_path, models):
    line = refusal(tmp_path, {"MODELS_DIR": str(models), "API_KEY": "   "}, 2, "API_KEY", "blank")
    assert "'   '" not in line["message"]


def test_non_integer_max_body_bytes_exits_2(tmp_path, models):
    env = {"MODELS_DIR": str(models), "MAX_BODY_BYTES": "abc"}
    refusal(tmp_path, env, 2, "MAX_BODY_BYTES='abc'", "valid integer")


def test_negative_reload_interval_exits_2(tmp_path, models):
    env = {"MODELS_DIR": str(models), "RELOAD_INTERVAL_S": "-1"}
    refusal(tmp_path, env, 2, "RELOAD_INTERVAL_S='-1'", "greater than or equal to 0")


def test_zero_header_timeout_exits_2(tmp_path, models):
    env = {"MODELS_DIR": str(models), "HEADER_TIMEOUT_S": "0"}
    refusal(tmp_path, env, 2, "HEADER_TIMEOUT_S='0'", "greater than 0")


def test_unknown_log_format_exits_2_in_json(tmp_path, models):
    env = {"MODELS_DIR": str(models), "LOG_FORMAT": "xml"}
    refusal(tmp_path, env, 2, "LOG_FORMAT='xml'", "'json' or 'text'")


def test_unknown_log_level_exits_2(tmp_path, models):
    env = {"MODELS_DIR": str(models), "LOG_LEVEL": "loud"}
    refusal(tmp_path, env, 2, "LOG_LEVEL='loud'", "DEBUG, INFO, WARNING, ERROR, CRITICAL")


def test_inference_buckets_not_json_exits_2(tmp_path, models):
    env = {"MODELS_DIR": str(models), "INFERENCE_BUCKETS": "1,4"}
    refusal(tmp_path, env, 2, "INFERENCE_BUCKETS='1,4'", "JSON list")


def test_zero_inference_bucket_exits_2(tmp_path, models):
    env = {"MODELS_DIR": str(models), "INFERENCE_BUCKETS": "[0, 4]"}
    refusal(tmp_path, env, 2, "INFERENCE_BUCKETS=[0, 4]", ">= 1")


def test_each_bad_setting_gets_its_own_line(tmp_path, models):
    env = {"MODELS_DIR": str(models), "MAX_BODY_BYTES": "abc", "BATCH_QUEUE_SIZE": "0"}
    code, lines = run(tmp_path, env)
    assert code == 2
    messages = sorted(json.loads(line)["message"] for line in lines)
    assert len(messages) == 2
    assert "BATCH_QUEUE_SIZE='0'" in messages[0] and "MAX_BODY_BYTES='abc'" in messages[1]


def test_text_log_format_gives_a_text_line(tmp_path):
    env = {"MODELS_DIR": str(tmp_path / "nowhere"), "LOG_FORMAT": "text"}
    code, lines = run(tmp_path, env)
    assert code == 2 and len(lines) == 1
    assert " ERROR service.startup: refusing to start: MODELS_DIR=" in lines[0]


def test_refusal_comes_before_tensorflow_or_the_app_is_imported(tmp_path):
    code = textwrap.dedent("""
        import sys
        from service.__main__ import main
        try:
            main([])
        except SystemExit as e:
            print(e.code, "tensorflow" in sys.modules, "service.main" in sys.modules)
    """)
    env = {k: v for k, v in os.environ.items() if k.upper() not in SETTINGS}
    env |= {"PYTHONPATH": str(ROOT), "MODELS_DIR": str(tmp_path / "nowhere")}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.stdout.split() == ["2", "False", "False"], done.stdout + done.stderr


def test_models_that_all_fail_to_load_exit_3_with_one_line_each_and_no_traceback(tmp_path):
    """The pre-check sees model directories; the app's start-up then loads none of them."""
    for name in ("sine", "stock"):
        version = tmp_path / "models" / name / "1"
        version.mkdir(parents=True)
        (version / "metadata.json").write_text("{not json")
        (version / "saved_model.pb").write_bytes(b"")
    code, lines = run(tmp_path, {"MODELS_DIR": str(tmp_path / "models"), "LOG_FORMAT": "text"})
    assert code == 3, lines
    assert not any("Traceback" in line or line.startswith(" ") for line in lines), lines
    reasons = [line for line in lines if " ERROR service.core.registry: model " in line]
    assert sorted(line.split("model ")[1].split()[0] for line in reasons) == ["sine", "stock"]
    refusals = [line for line in lines if "refusing to start: " in line]
    assert len(refusals) == 1 and "no loadable model under" in refusals[0], lines
