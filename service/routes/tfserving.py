"""TensorFlow Serving's REST routes: model status, metadata and `:predict`, with its errors.

Errors are `{"error": "..."}` with TF Serving's statuses: 400 invalid argument (where the
native routes answer 422), 404 not found, 429 overloaded, 503 unavailable.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from service import tfserving
from service.errors import (
    InputError,
    ModelNotFound,
    ModelUnavailable,
    Overloaded,
    format_loc,
    format_msg,
)
from service.limits import parse_json
from service.registry import RegistryDep
from service.tfserving import (
    ServingError,
    TFError,
    TFModelMetadata,
    TFModelStatus,
    TFPredictRequest,
    TFPredictResponse,
)


def _message(exc: RequestValidationError) -> str:
    err = exc.errors()[0]
    if err.get("type") == "json_invalid":
        return f"body: is not valid JSON ({err.get('ctx', {}).get('error', 'syntax error')})"
    loc = [p for p in err["loc"] if p not in ("path", "query")]
    return f"{format_loc(loc)}: {format_msg(err)}"


def tf_error(exc: Exception) -> JSONResponse | None:
    """TF Serving's answer to an exception, or None if it is not one of ours."""
    if isinstance(exc, ServingError):
        return JSONResponse({"error": exc.message}, exc.status)
    if isinstance(exc, RequestValidationError):
        return JSONResponse({"error": _message(exc)}, 400)
    if isinstance(exc, InputError):
        return JSONResponse({"error": f"{format_loc(exc.loc)}: {exc.msg}"}, 400)
    if isinstance(exc, ModelNotFound):
        name = str(exc).split("'")[1]
        return JSONResponse({"error": f"Servable not found for request: Latest({name})"}, 404)
    if isinstance(exc, Overloaded):
        return JSONResponse({"error": str(exc)}, 429, {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, ModelUnavailable):
        return JSONResponse({"error": str(exc)}, 503)
    return None


def _as_json(scope: dict[str, Any]) -> dict[str, Any]:
    """The request scope with `Content-Type: application/json`, whatever the client sent."""
    headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-type"]
    return {**scope, "headers": [*headers, (b"content-type", b"application/json")]}


class TFServingRoute(APIRoute):
    """Answers this router's errors in TF Serving's shape instead of the native one."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            if request.method == "POST" and "json" not in request.headers.get("content-type", ""):
                request = Request(_as_json(request.scope), request.receive)  # as TF Serving
            try:
                if request.method == "POST":  # strict UTF-8, no duplicate keys, bounded nesting
                    request._json = parse_json(await request.body())  # Starlette's cache
                return await handler(request)
            except Exception as exc:
                answer = tf_error(exc)
                if answer is None:
                    raise
                return answer

        return route


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": TFError, "description": "Invalid argument"},
    404: {"model": TFError, "description": "No such model or version"},
    503: {"model": TFError, "description": "The model is not loaded"},
}
router = APIRouter(prefix="/v1/models", tags=["tensorflow-serving"], route_class=TFServingRoute,
                   responses=_ERRORS)  # fmt: skip


@router.get("/{name}", response_model=TFModelStatus)
async def model_status(name: str, registry: RegistryDep) -> Any:
    """`model_version_status` of every version: AVAILABLE (serving), START or END."""
    return tfserving.version_status(registry, name, None)


@router.get("/{name}/versions/{version}", response_model=TFModelStatus)
async def version_status(name: str, version: int, registry: RegistryDep) -> Any:
    """`model_version_status` of one version."""
    return tfserving.version_status(registry, name, version)


@router.get("/{name}/metadata", response_model=TFModelMetadata)
async def model_metadata(name: str, registry: RegistryDep) -> Any:
    """`model_spec` and the `serving_default` signature of the served version."""
    return tfserving.model_metadata(tfserving.served(registry, name, None))


@router.get("/{name}/versions/{version}/metadata", response_model=TFModelMetadata)
async def version_metadata(name: str, version: int, registry: RegistryDep) -> Any:
    """The same, 404 unless `version` is the one being served."""
    return tfserving.model_metadata(tfserving.served(registry, name, version))


_PREDICT = {
    "response_model": TFPredictResponse,
    "response_model_exclude_none": True,
    "responses": {429: {"model": TFError, "description": "The model's queue is full"}},
}


@router.post("/{name}:predict", **_PREDICT)
async def predict(name: str, body: TFPredictRequest, registry: RegistryDep) -> Any:
    """`{"instances": [window, ...]}` -> `{"predictions": [...]}`, or `inputs` -> `outputs`."""
    return await tfserving.predict(tfserving.served(registry, name, None), body)


@router.post("/{name}/versions/{version}:predict", **_PREDICT)
async def predict_version(
    name: str, version: int, body: TFPredictRequest, registry: RegistryDep
) -> Any:
    """The same, 404 unless `version` is the one being served."""
    return await tfserving.predict(tfserving.served(registry, name, version), body)
