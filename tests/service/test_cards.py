"""Model cards and charts: GET /models/{name} and GET /models/{name}/plot.png."""

import shutil

import pytest

from tests.service.checks import assert_error
from tests.service.conftest import COMMITTED_MODELS, client_for
from tests.service.test_drift import newest_metadata

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", ["stock", "sine", "classify"])
def test_card_holds_every_section(committed_client, name):
    card = committed_client.get(f"/models/{name}").json()
    meta = newest_metadata(name)
    assert card["version"] == meta["version"]
    assert [v for v in card["versions"] if v["serving"]] == [
        {"version": meta["version"], "state": "AVAILABLE", "serving": True, "error": ""}
    ]
    assert card["data"]["source"] == meta["data"]["source"]
    assert card["input"]["features"] == meta["input"]["features"] and card["input"]["window"] == 20
    assert card["statistics"]["inputs"] == meta["statistics"]["inputs"]
    assert card["metrics"]["test"] == meta["metrics"]["test"]
    assert card["training"]["seconds"] == meta["training"]["seconds"]
    assert card["libraries"]["tensorflow"] and card["drift"]["threshold"] >= 0
    assert set(card["charts"]) == {"predictions", "loss"}


def test_stock_card_shows_data_hash_baseline_and_coverage(committed_client):
    card = committed_client.get("/models/stock").json()
    assert len(card["data"]["sha256"]) == 64
    assert "persistence_mape" in card["metrics"]["test"]
    assert 0.85 <= card["interval"]["test_coverage"] <= 0.95


def test_card_lists_every_version_directory(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(COMMITTED_MODELS / "sine", models / "sine")
    newest = max(int(p.name) for p in (models / "sine").iterdir() if p.name.isdigit())
    shutil.copytree(models / "sine" / str(newest), models / "sine" / "900")
    (models / "sine" / "901").mkdir()  # incomplete: no saved_model.pb, not a version
    shutil.copytree(models / "sine" / str(newest), models / "sine" / "50")
    with client_for(models) as client:
        card = client.get("/models/sine").json()
    states = {v["version"]: v["state"] for v in card["versions"]}
    assert card["version"] == 900 and list(states) == sorted(states, reverse=True)
    assert states == {900: "AVAILABLE", 50: "END", newest: "END"}


@pytest.mark.parametrize("kind", ["predictions", "loss"])
def test_chart_is_the_serving_versions_png(committed_client, kind):
    response = committed_client.get("/models/stock/plot.png", params={"kind": kind})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    version = newest_metadata("stock")["version"]
    assert (
        response.content == (COMMITTED_MODELS / "stock" / str(version) / f"{kind}.png").read_bytes()
    )
    assert response.content.startswith(PNG)


def test_chart_kind_is_an_enum_not_a_path(committed_client):
    response = committed_client.get("/models/stock/plot.png", params={"kind": "../metadata.json"})
    assert_error(response, 422, "kind")


def test_missing_chart_is_a_clean_404(fake_client):
    assert_error(fake_client.get("/models/sine/plot.png"), 404, "no predictions chart")


def test_chart_of_unknown_model_is_404(committed_client):
    assert_error(committed_client.get("/models/nope/plot.png"), 404, "model 'nope' not found")
