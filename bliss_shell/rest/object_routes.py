"""``/api/object`` (register, state, set, unregister), ``/api/object_type`` and socket.io ``/object``: BLISS 2.4's.

Registering a name the session has not loaded (not in its namespace, nor ``SCAN_SAVING``, ``ACTIVE_MG``) builds
it: refused as a change is (401/403, `bliss_shell.rest.access.register_refusal`), before the 503.

Codes and texts are BLISS's: 503 ``Not yet fully initialized`` before the session's setup ran
(listing and registering only; a body or query of the wrong shape is 422 first, as BLISS's
flask-openapi3 validates before the route runs), 404 ``No such object`` / ``No such abstract object``, 400 with
``objects`` for names that could not be registered, 400 with the object's own words for a value
it refused, 422 with pydantic's error list for a value of the wrong type.

Examples
--------
>>> from flask import Flask
>>> from bliss_shell.rest.context import SessionContext
>>> from bliss_shell.rest.objects import ObjectStore
>>> context = SessionContext("demo", {"answer": 42}, None, {}, [])
>>> service = type("Service", (), {"ready": True, "objects": ObjectStore(context, lambda e, d: None)})()
>>> app = Flask(__name__)
>>> install(app, None, service)
>>> client = app.test_client()
>>> client.post("/api/object", json={"names": ["answer"]}).get_json()
{'names': ['answer']}
>>> client.get("/api/object/nothing").status_code
404
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any

import gevent
from flask import Response, jsonify, request
from pydantic import BaseModel, Field, ValidationError

from .access import register_refusal
from .object_typedef import serialize_object_type
from .object_types import OBJECT_TYPES
from .responses import Refusal, error, json_body, not_ready, validation_error
from .settings import RestSettings

if TYPE_CHECKING:
    import flask
    import socketio

    from .service import RestService

__all__ = ["RegisterHardwareSchema", "SetObjectProperty", "install"]


class RegisterHardwareSchema(BaseModel):
    """BLISS's body of ``POST /api/object``."""

    names: list[str]


class SetObjectProperty(BaseModel):
    """BLISS's body of ``PUT /api/object/<name>``."""

    property: str = Field(description="The property to set")
    value: Any = Field(description="Its value")


class HardwaresResourceQuery(BaseModel):
    """BLISS's query of ``GET /api/object``."""

    type: str | None = Field(None, description="Filter by a specific type")


def _query(model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as raised:
        raise Refusal(validation_error(raised)) from None


def install(app: flask.Flask, sio: socketio.Server | None, service: RestService) -> None:
    """Add the object and object type routes to ``app`` and the ``/object`` connection handlers to ``sio``.

    Examples
    --------
    >>> from flask import Flask
    >>> from bliss_shell.rest.context import SessionContext
    >>> from bliss_shell.rest.objects import ObjectStore
    >>> context = SessionContext("test_session", {"roby": roby}, None, {}, [])
    >>> service = type("Service", (), {"ready": False, "objects": ObjectStore(context, lambda e, d: None)})()
    >>> app = Flask("objects")
    >>> install(app, None, service)
    >>> client = app.test_client()
    >>> client.post("/api/object", json={"names": ["roby"]}).status_code  # before the setup ran
    503
    >>> service.ready = True
    >>> client.post("/api/object", json={"names": ["roby"]}).get_json()
    {'names': ['roby']}
    >>> client.get("/api/object/roby").get_json()["properties"]["unit"]
    'mm'
    """

    def list_objects() -> Any:
        query = _query(HardwaresResourceQuery)  # validated first (422), as flask-openapi3 does, then 503
        if not service.ready:
            return not_ready()
        states = service.objects.states(type=query.type)
        return jsonify({"total": len(states), "results": states})

    def register_objects() -> Any:
        body = json_body(RegisterHardwareSchema)  # validated first (422), as flask-openapi3 does, then 503
        # a name the session has not loaded would be built now: a change, refused as one (401/403, logged)
        context = getattr(service, "context", None)
        env = context.env if context is not None else {}
        refused = register_refusal(getattr(service, "settings", None) or RestSettings(), request.environ, body.names, env)
        if refused is not None:
            return error(*refused)
        if not service.ready:
            return not_ready()
        failed = []
        for name in body.names:
            try:
                service.objects.register(name, register_sub_objects=True)
            except Exception as raised:
                failed.append(
                    {"name": name, "error": str(raised), "traceback": "".join(traceback.format_tb(raised.__traceback__))}
                )
        if failed:
            return error(400, "Could not register hardware objects", objects=failed)
        return jsonify(body.model_dump())

    def get_object(name: str) -> Any:
        if service.objects.get_object(name) is None:
            return error(404, "No such object")
        return jsonify(service.objects.state(name))

    def set_property(name: str) -> Any:
        body = json_body(SetObjectProperty)
        store = service.objects
        if store.get_object(name) is None:
            return error(404, "No such object")
        try:
            store.set(name, body.property, body.value)
        except ValidationError as raised:
            return validation_error(raised)
        except (Exception, gevent.Timeout) as raised:
            return error(400, str(raised))
        return jsonify({"property": body.property, "value": body.value})

    def unregister_object(name: str) -> Any:
        store = service.objects
        if store.get_object(name) is None:
            return error(404, "No such object")
        store.unregister(name)
        return Response(b"", status=204)

    def list_types() -> Any:
        results = [serialize_object_type(object_type) for object_type in OBJECT_TYPES.values()]
        return jsonify({"total": len(results), "results": results})

    def get_type(id: str) -> Any:
        object_type = OBJECT_TYPES.get(id)
        if object_type is None:
            return error(404, "No such abstract object")
        return jsonify(serialize_object_type(object_type))

    app.add_url_rule("/api/object", "object_list", list_objects, methods=["GET"])
    app.add_url_rule("/api/object", "object_register", register_objects, methods=["POST"])
    app.add_url_rule("/api/object/<string:name>", "object_get", get_object, methods=["GET"])
    app.add_url_rule("/api/object/<string:name>", "object_set", set_property, methods=["PUT"])
    app.add_url_rule("/api/object/<string:name>", "object_unregister", unregister_object, methods=["DELETE"])
    app.add_url_rule("/api/object_type", "object_type_list", list_types, methods=["GET"])
    app.add_url_rule("/api/object_type/<string:id>", "object_type_get", get_type, methods=["GET"])

    if sio is not None:

        def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
            service.objects.client_connected()

        def disconnect(sid: str, *args: Any) -> None:
            service.objects.client_disconnected()

        sio.on("connect", connect, namespace="/object")
        sio.on("disconnect", disconnect, namespace="/object")
