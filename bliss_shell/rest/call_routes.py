"""``/api/call``: run a session function or an object's callable; its state; kill it. Socket.io ``/call``.

BLISS 2.4's endpoints, checks, status codes and texts (``rest_service/endpoints/call.py``):

- ``POST /api/call`` ``{"function", "args", "kwargs", "object" | "env_object", "has_scan_factory",
  "in_terminal", "emit_stdout"}`` -> ``{"call_id"}``; refused with 422 (body), 503 (setup not run),
  400 (``object`` and ``env_object``), 404 (no such object, function, or an argument naming an
  unknown object), 500 (arguments that cannot be decoded), 422 (an object's callable given
  arguments of the wrong type), 404 "Terminal not available" / 429 "Terminal already in use".
- ``GET /api/call/<call_id>`` -> ``{"state": "running" | "terminated" | "killed", "return_value",
  "progress"}``; 404 unknown id, 500 ``{"exception", "traceback"}`` when the call raised (not logged:
  the call's one line ``REST call roby.move(5000) failed: ...`` was written as it failed), 503 when its
  value cannot be sent as JSON.
- ``DELETE /api/call/<call_id>`` -> 204 (Ctrl-C on it), 404 unknown id.
- socket.io ``/call``: any peer connects; ``stdout`` events go to the room :data:`STDOUT_ROOM`, the clients
  trusted at their connection (`bliss_shell.rest.access.trusted`: this machine naming itself, or the secret as
  ``Authorization: Bearer <iosecret>`` or socket.io auth ``{"token": <iosecret>}``). Another one gets no call's
  output, and its connection writes one line ``REST SOCKET /call refused (401): from <peer>: ...``.

Examples
--------
>>> _from_env({"roby": roby}, "roby.move") == roby.move
True
>>> _from_env({"roby": roby}, "roby.nothing") is None
True
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, g, jsonify
from pydantic import BaseModel, Field, ValidationError

from .access import trusted
from .call_tasks import FuncTask, ObjectFuncTask, ScanFactoryTask, Task
from .calls import TerminalAlreadyInUse, TerminalNotAvailable, UnknownCall
from .jsonready import from_jsonready, to_jsonready
from .names import ObjectNotFound
from .responses import error, exception, json_body, not_ready, validation_error
from .settings import RestSettings

__all__ = ["NO_OUTPUT", "STDOUT_ROOM", "CallFunction", "install"]

STDOUT_ROOM = "stdout"
"""The socket.io room of ``/call`` that gets the calls' ``stdout`` events: the trusted clients."""

NO_OUTPUT = (
    "connected without the calls' output: from another machine, stdout events need the secret, sent as "
    "'Authorization: Bearer <iosecret>' or as socket.io auth {\"token\": <iosecret>}"
)
"""The refusal line's text of a ``/call`` client that gets no call's output."""


class CallFunction(BaseModel):
    """The body of ``POST /api/call`` (BLISS's ``CallFunction``)."""

    env_object: str | None = Field(None, description="A path to an object from the environment on which to call a function")
    object: str | None = Field(None, description="A name of a registered object")
    function: str = Field(description="The function to call")
    args: list[Any] | None = Field(
        default_factory=list, description="A list of arguments, special types can be handled with jsonready"
    )
    kwargs: dict[str, Any] | None = Field(
        default_factory=dict, description="A dictionary of kwargs, special types can be handled with jsonready"
    )
    has_scan_factory: bool | None = Field(
        False,
        description="Assume this function creates a `Scan`, call it with `run=False`, start the scan, and retrieve the scan in the `progress` response",
    )
    in_terminal: bool | None = Field(
        False,
        description="If true, the call is executed inside the BLISS terminal. If the terminal is busy an exception is raised.",
    )
    emit_stdout: bool | None = Field(False, description="If true, the call stdout are emitted as event in the websocket namespace `/call`.")  # fmt: skip


def _from_env(env: dict[str, Any], path: str) -> Any:
    """``a.b.c``: ``env["a"].b.c``; None when any step is missing (BLISS's lookup)."""
    first, *rest = path.split(".")
    try:
        found = env.get(first)
        for name in rest:
            found = getattr(found, name)
    except Exception:  # a property that raises: not found, as BLISS has it
        return None
    return found


def _task(service: Any, body: CallFunction) -> Task | Response:
    """The task the body asks for, or BLISS's 404 when its function or object is not there."""
    if body.object is not None:
        found = service.objects.get_object(body.object)
        if found is None:
            return error(404, "No such object")
        if not found.has_function(body.function):
            return error(404, "No such function")
        return ObjectFuncTask(service.objects, body.object, body.function)
    env = service.context.env
    if body.env_object:
        description = f"{body.env_object}.{body.function}(...)"
        function = _from_env(env, f"{body.env_object}.{body.function}")
        if function is None or not callable(function):
            return error(404, f"Function '{body.function}' from object '{body.env_object}' not found in the session")
    else:
        description = f"{body.function}(...)"
        function = _from_env(env, body.function)
        if function is None or not callable(function):
            return error(404, f"Function '{body.function}' not found in the session")
    kind = ScanFactoryTask if body.has_scan_factory else FuncTask
    return kind(function, description)


def _post(service: Any) -> Any:
    body = json_body(CallFunction)
    if not service.ready:
        return not_ready()
    if body.object is not None and body.env_object is not None:
        return error(400, "'env_object' and 'object' arguments are mutual exclusive")
    task = _task(service, body)
    if isinstance(task, Response):
        return task
    context = service.context
    try:
        args = from_jsonready(body.args, context.env, context.config) if body.args else []
        kwargs = from_jsonready(body.kwargs, context.env, context.config) if body.kwargs else {}
    except ObjectNotFound as missing:
        return error(404, str(missing))
    except Exception as failed:  # BLISS: a 500 with the exception
        return exception(failed)
    try:
        task.validate(tuple(args), kwargs)
        if body.in_terminal:
            service.calls.check_terminal()
    except TerminalNotAvailable as refused:
        return error(404, str(refused))
    except TerminalAlreadyInUse as refused:
        return error(429, str(refused))
    except ValidationError as invalid:
        return validation_error(invalid)
    call_id = service.calls.spawn(task, args, kwargs, in_terminal=bool(body.in_terminal),
                                  emit_stdout=bool(body.emit_stdout))  # fmt: skip
    return jsonify({"call_id": call_id})


def _state(service: Any, call_id: str) -> Any:
    try:
        state = service.calls.state(call_id)
    except UnknownCall as unknown:
        return error(404, str(unknown))
    progress = to_jsonready(state.progress)
    shown = {"progress": progress} if progress else {}
    if state.state != "terminated":
        return jsonify({"state": state.state, **shown})
    if state.error is not None:
        g.rest_logged = True  # its one line was written as it failed (or the prompt showed it): none for this 500
        return exception(state.error)
    result = to_jsonready(state.result)
    try:
        json.dumps([result, progress])
    except (TypeError, ValueError):
        return error(503, f"Couldnt serialise function: `{call_id}` response: {result}")
    return jsonify({"state": "terminated", "return_value": result, **shown})


def _kill(service: Any, call_id: str) -> Any:
    try:
        service.calls.kill(call_id)
    except UnknownCall as unknown:
        return error(404, str(unknown))
    except Exception as failed:  # BLISS: 400 with the exception
        return exception(failed, status=400)
    return Response(b"", status=204)


def install(app: Flask, sio: Any, service: Any) -> None:
    """Add the ``/api/call`` routes and the socket.io ``/call`` namespace to the service's app.

    Examples
    --------
    >>> install(service.app, service.sio, service)  # doctest: +SKIP
    >>> httpx.post(f"{url}/api/call", json={"function": "wa"}).json()  # doctest: +SKIP
    {'call_id': '...'}
    """
    app.add_url_rule("/api/call", "call_post", lambda: _post(service), methods=["POST"])
    app.add_url_rule("/api/call/<call_id>", "call_state", lambda call_id: _state(service, call_id), methods=["GET"])
    app.add_url_rule("/api/call/<call_id>", "call_kill", lambda call_id: _kill(service, call_id), methods=["DELETE"])

    def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        # open to every peer (blissclient's create_connect() joins /call and /object together, sending no
        # header), but the calls' output only to a client trusted as a change would be, or sending the secret
        settings = getattr(service, "settings", None) or RestSettings()
        if trusted(settings, environ, auth):
            sio.enter_room(sid, STDOUT_ROOM, namespace="/call")
        else:
            peer = environ.get("REMOTE_ADDR", "?")
            service.refused(401, f"from {peer}: {NO_OUTPUT}", method="SOCKET", path="/call")
        return True

    sio.on("connect", connect, namespace="/call")
