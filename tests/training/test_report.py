import json

from training.report import markdown_table


def test_quality_table_reads_each_models_test_metrics(tiny_exports):
    table = markdown_table(tiny_exports["stock"].parent.parent).splitlines()
    assert [row.split("|")[1].strip() for row in table[2:]] == ["stock", "sine", "classify"]
    stock = json.loads((tiny_exports["stock"] / "metadata.json").read_text())["metrics"]["test"]
    assert f"{stock['mape']:.3f}%" in table[2] and f"{stock['persistence_mape']:.3f}%" in table[2]
