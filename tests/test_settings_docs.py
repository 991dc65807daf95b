"""Every setting is documented in a README settings table (its env var name in backticks)."""

from pathlib import Path

from service.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_has_a_row_in_a_settings_table():
    text = (ROOT / "README.md").read_text()
    missing = [f for f in Settings.model_fields if f"| `{f.upper()}` |" not in text]
    assert not missing, f"settings without a README row: {missing}"
