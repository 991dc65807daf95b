"""A model trained under a name of the user's: served under it by its task, scored as what
it was trained on (`config.task`), by the CLI and the service alike."""

import json

from fastapi.testclient import TestClient

from service.examples import SINE_X
from service.main import create_app
from service.settings import Settings
from tests.tiny import train_tiny
from training.__main__ import main


def test_a_sine_model_named_tide_serves_and_scores_as_a_curve(tmp_path, capsys):
    path = train_tiny("sine", tmp_path / "models", name="tide-2")
    assert path.parent.name == "tide-2"
    meta = json.loads((path / "metadata.json").read_text())
    assert (meta["name"], meta["task"], meta["config"]["task"]) == ("tide-2", "curve", "sine")

    out = tmp_path / "card"
    argv = ["evaluate", str(path), "--windows", "50", "--out", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["model"]["name"] == "tide-2" and card["model"]["trained_on"] == "sine"
    assert out.with_suffix(".png").is_file()

    settings = Settings(models_dir=tmp_path / "models", reload_interval_s=0)
    with TestClient(create_app(settings)) as client:
        answer = client.post("/predict/tide-2", json={"x": SINE_X})
        assert answer.status_code == 200 and len(answer.json()["y"]) == 20
        assert client.post("/predict/sine", json={"x": SINE_X}).status_code in (404, 503)
        served = client.post("/models/tide-2/evaluate", json={"windows": 50})
        assert served.status_code == 200, served.text
        assert served.json()["model"]["name"] == "tide-2"
        scored = {k: v for k, v in served.json().items() if k != "model"}
        assert scored == {k: v for k, v in card.items() if k != "model"}  # the same card
