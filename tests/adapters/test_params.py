"""Path and query parameters fail alike: the camelCase field names and the helpers' edges.

The conformance table (test_common_errors.py) covers `@path_params` and typed FastAPI
parameters on one route per framework; these are the cases a table row cannot express.
"""

from __future__ import annotations

import warnings
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path
from fastapi import FastAPI
from flask import Flask
from tests.adapters._apps import make_kit
from tests.adapters._django_app import client_for, use_kit

from backendkit.adapters import django as bk_django
from backendkit.adapters import fastapi as bk_fastapi
from backendkit.adapters import flask as bk_flask
from backendkit.responses import success

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient


def _fastapi_client() -> TestClient:
    app = FastAPI()
    bk_fastapi.install(app, make_kit())

    @app.get("/orders/{order_id}")
    async def order(order_id: int, max_count: int = 10, x: int = 0) -> dict[str, Any]:
        return success({"orderId": order_id, "maxCount": max_count})

    return TestClient(app, raise_server_exceptions=False)


def _fields(payload: dict[str, Any]) -> list[str | None]:
    return [detail["field"] for detail in payload["error"]["details"]]


def test_fastapi_snake_case_query_and_path_parameters_are_named_in_camel_case() -> None:
    """``order_id`` and ``max_count`` come out as ``orderId`` and ``maxCount``."""
    response = _fastapi_client().get("/orders/abc?max_count=xyz&x=bad")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert _fields(response.json()) == ["orderId", "maxCount", "x"]


def test_fastapi_valid_parameters_pass() -> None:
    """The valid twin: the same parameters, well-formed, reach the route."""
    response = _fastapi_client().get("/orders/7?max_count=3")
    assert response.status_code == 200
    assert response.json()["data"] == {"orderId": 7, "maxCount": 3}


def _flask_client() -> Any:
    app = Flask("params")
    bk_flask.BackendKit(app, kit=make_kit())

    @app.get("/orders/<order_id>")
    @bk_flask.path_params(order_id=int)
    def order(order_id: int) -> Any:
        return success({"orderId": order_id})

    @app.get("/broken/<order_id>")
    @bk_flask.path_params(item_id=int)
    def broken(order_id: str) -> Any:
        return success({})

    return app.test_client()


def test_flask_path_params_converts_a_well_formed_value() -> None:
    """The view receives the converted value."""
    response = _flask_client().get("/orders/12")
    assert (response.status_code, response.get_json()["data"]) == (200, {"orderId": 12})


def test_flask_path_params_refuses_a_malformed_value() -> None:
    """400 VALIDATION_ERROR naming the parameter in camelCase, not werkzeug's 404."""
    response = _flask_client().get("/orders/twelve")
    assert response.status_code == 400
    assert _fields(response.get_json()) == ["orderId"]


def test_flask_path_params_naming_no_url_parameter_is_a_configuration_error() -> None:
    """A declared parameter the rule does not capture is the app's bug: a 500, not a 400."""
    response = _flask_client().get("/broken/1")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "INTERNAL_ERROR"


@bk_django.path_params(order_id=int)
async def _async_order(request: HttpRequest, order_id: int) -> HttpResponse:
    return bk_django.success_response({"orderId": order_id})


urlpatterns = [path("orders/<order_id>", _async_order)]
handler404 = "backendkit.adapters.django.views.page_not_found"
handler500 = "backendkit.adapters.django.views.server_error"


def test_django_path_params_on_an_async_view() -> None:
    """An async view: the malformed value is a 400 naming ``orderId``, the valid twin passes."""
    use_kit(make_kit())
    client = client_for(__name__)
    refused = client.get("/orders/twelve")
    assert refused.status_code == 400
    assert _fields(refused.json()) == ["orderId"]
    served = client.get("/orders/12")
    assert (served.status_code, served.json()["data"]) == (200, {"orderId": 12})
