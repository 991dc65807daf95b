"""Every setting is documented in the settings table of docs/operations.md (its env var name
in backticks, first in a table row)."""

from pathlib import Path

from service.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SETTINGS_DOC = ROOT / "docs" / "operations.md"


def test_every_setting_has_a_row_in_the_settings_table():
    rows = [line for line in SETTINGS_DOC.read_text().splitlines() if line.startswith("| `")]
    missing = [
        f
        for f in Settings.model_fields
        if not any(r.startswith(f"| `{f.upper()}` |") for r in rows)
    ]
    assert not missing, f"settings without a row in {SETTINGS_DOC.relative_to(ROOT)}: {missing}"
