"""/docs and /redoc in a real headless Chromium: every asset from the service, none from a CDN."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.settings import Settings
from tests.browser import Page, page
from tests.service.live import served

STOCK = "#operations-predict-predict_stock_predict_stock_post"  # Swagger UI's id: tag-operationId


@pytest.fixture(scope="module")
def url(models_dir: Path) -> Iterator[str]:
    with served(Settings(models_dir=models_dir, log_level="WARNING")) as base:
        yield base


@pytest.fixture(scope="module")
def tab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with page(tmp_path_factory.mktemp("chromium-profile")) as browser_tab:
        yield browser_tab


@pytest.fixture(scope="module")
def openapi(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}/openapi.json").json()


def operations(openapi: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """operationId -> (METHOD, path) of every route in the OpenAPI document."""
    return {
        op["operationId"]: (method.upper(), path)
        for path, item in openapi["paths"].items()
        for method, op in item.items()
    }


def assert_all_local(tab: Page, url: str) -> None:
    assert tab.loaded(), "the page loaded nothing"
    assert {u for u in tab.loaded() if not u.startswith(url + "/")} == set()


def test_swagger_ui_lists_every_route(tab, url, openapi):
    tab.open(f"{url}/docs")
    tab.wait_for("document.querySelectorAll('.opblock').length > 0")
    shown = tab.evaluate(
        "[...document.querySelectorAll('.opblock')].map(b => ["
        "b.querySelector('.opblock-summary-method').textContent,"
        "b.querySelector('.opblock-summary-path').getAttribute('data-path')])"
    )
    assert sorted(map(tuple, shown)) == sorted(operations(openapi).values())
    assert len(shown) >= 19  # predict, models, TF Serving and v2 routes
    assert_all_local(tab, url)


def test_swagger_ui_try_it_out_predict_stock_answers_200(tab, url):
    tab.open(f"{url}/docs")
    tab.wait_for(f"!!document.querySelector('{STOCK}')")
    tab.evaluate(f"document.querySelector('{STOCK} .opblock-summary-control').click()")
    tab.wait_for(f"!!document.querySelector('{STOCK} .try-out__btn')")
    tab.evaluate(f"document.querySelector('{STOCK} .try-out__btn').click()")
    tab.wait_for(f"!!document.querySelector('{STOCK} button.execute')")
    sent = tab.evaluate(f"document.querySelector('{STOCK} textarea.body-param__text').value")
    assert '"rows"' in sent and '"close"' in sent  # the example shown, as it is
    tab.evaluate(f"document.querySelector('{STOCK} button.execute').click()")
    live = f"{STOCK} .live-responses-table tbody"  # the header row has a 'Code' cell
    status = tab.wait_for(f"document.querySelector('{live} .response-col_status')?.textContent")
    body = tab.evaluate(f"document.querySelector('{live} .response-col_description pre').innerText")
    assert status.strip() == "200", body
    assert '"next_close"' in body
    assert f"{url}/predict/stock" in tab.loaded()


def test_redoc_lists_every_operation(tab, url, openapi):
    tab.open(f"{url}/redoc")
    sections = "[...document.querySelectorAll('[data-section-id^=\"operation/\"]')]"
    tab.wait_for(f"{sections}.length > 0")
    shown = tab.evaluate(f"{sections}.map(s => s.dataset.sectionId.slice('operation/'.length))")
    assert sorted(shown) == sorted(operations(openapi))
    assert_all_local(tab, url)  # ReDoc's CDN logo is blocked by the page's policy
