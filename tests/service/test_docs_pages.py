"""/docs and /redoc without a browser: local assets only, a policy that keeps them local, and
asset requests counted under their own route."""

import re

import pytest

from service.api.docs import ASSETS_URL


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_pages_link_only_to_the_service(client, page):
    response = client.get(page)
    assert response.status_code == 200
    links = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert links and all(link.startswith(ASSETS_URL + "/") for link in links), links
    assert "default-src 'self'" in response.headers["content-security-policy"]
    for link in links:
        assert client.get(link).status_code == 200, link


@pytest.mark.parametrize(
    ("name", "media"),
    [("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css"),
     ("redoc.standalone.js", "text/javascript"), ("favicon.png", "image/png")],
)  # fmt: skip
def test_assets_are_served_with_their_types(client, name, media):
    response = client.get(f"{ASSETS_URL}/{name}")
    assert response.status_code == 200 and response.headers["content-type"].startswith(media)
    assert len(response.content) > 1000


def test_no_file_outside_the_assets_is_served(client):
    assert client.get(f"{ASSETS_URL}/../../service/main.py").status_code == 404
    assert client.get(f"{ASSETS_URL}/%2e%2e/core.py").status_code == 404
    assert client.get(f"{ASSETS_URL}/nope.js").status_code == 404


def test_asset_requests_are_counted_under_their_mount(client):
    client.get(f"{ASSETS_URL}/favicon.png")
    scraped = client.get("/metrics").text
    assert f'route="{ASSETS_URL}",status="200"' in scraped
