"""Assertions on the service's error contract."""

import httpx

FORBIDDEN_TEXT = ("Traceback", 'File "', "NaN", "Infinity")


def assert_error(response: httpx.Response, status: int, *fragments: str) -> dict:
    """The one error body, the status, each fragment in the message, no internals."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    assert isinstance(body["error"], str) and "\n" not in body["error"]
    for item in body["detail"]:
        assert set(item) == {"loc", "msg"}, item
    for fragment in fragments:
        assert fragment in body["error"], body["error"]
    for text in FORBIDDEN_TEXT:
        assert text not in response.text, response.text
    assert "tensorflow" not in response.text.lower(), response.text
    return body
