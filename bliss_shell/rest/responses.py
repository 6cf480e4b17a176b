"""The answers the REST routes share: BLISS's error bodies, the 422 of a request body, a refusal raised from deep down.

Every route module builds its non-200 answers here so that they look the same everywhere:
``{"error": "..."}`` (plus keys of the route's own), ``{"exception", "traceback"}`` for a 500 and
pydantic's error list for a 422, as BLISS 2.4's service returns them. The service writes the one
log line of each refusal (status >= 400) itself, after the response is made: routes never log.

Examples
--------
>>> from flask import Flask
>>> with Flask(__name__).app_context():
...     answer = error(404, "No such object")
>>> answer.status_code, answer.get_json()
(404, {'error': 'No such object'})
"""

from __future__ import annotations

import json
import traceback
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Response, jsonify, request

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

__all__ = [
    "NOT_READY",
    "Refusal",
    "error",
    "exception",
    "json_body",
    "not_ready",
    "refusal_text",
    "validation_error",
]

NOT_READY = "Not yet fully initialized"
"""BLISS's 503 text while the session's setup has not run yet."""

Model = TypeVar("Model", bound="BaseModel")


class Refusal(Exception):
    """Raised by a route (or a helper it calls) to answer with ``response`` at once; the service returns it.

    Parameters
    ----------
    response : flask.Response
        What the client gets, made by :func:`error`, :func:`exception` or :func:`validation_error`.

    Examples
    --------
    >>> from flask import Flask
    >>> with Flask(__name__).app_context():
    ...     refusal = Refusal(error(400, "Wrong path syntax /etc"))
    >>> refusal.response.status_code
    400
    """

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


def error(status: int, message: str, **extra: Any) -> Response:
    """BLISS's error answer: ``{"error": message, **extra}`` with ``status``.

    Parameters
    ----------
    status : int
        The HTTP status (400, 404, 429, 503...).
    message : str
        BLISS's text for that error.
    **extra
        More keys of the body (``objects`` for a register that failed, ``type`` for a YAML error).

    Returns
    -------
    flask.Response
        The JSON answer; needs an application context (every route has one).

    Examples
    --------
    >>> from flask import Flask
    >>> with Flask(__name__).app_context():
    ...     answer = error(400, "Could not register", objects=[])
    >>> answer.get_json()
    {'error': 'Could not register', 'objects': []}
    """
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


def not_ready() -> Response:
    """The 503 ``{"error": "Not yet fully initialized"}`` BLISS answers before the session's setup ran.

    Examples
    --------
    >>> from flask import Flask
    >>> with Flask(__name__).app_context():
    ...     not_ready().status_code
    503
    """
    return error(503, NOT_READY)


def exception(raised: BaseException, status: int = 500) -> Response:
    """BLISS's answer to an exception: ``{"exception": "Type: text", "traceback": "..."}`` with ``status``.

    Parameters
    ----------
    raised : BaseException
        What the session's code raised; its traceback is the frames it went through.
    status : int
        500 where BLISS says so (400 for the state of a call that failed).

    Examples
    --------
    >>> from flask import Flask
    >>> with Flask(__name__).app_context():
    ...     answer = exception(ZeroDivisionError("division by zero"))
    >>> answer.status_code, answer.get_json()["exception"]
    (500, 'ZeroDivisionError: division by zero')
    """
    response = jsonify(
        {
            "exception": f"{raised.__class__.__name__}: {raised}",
            "traceback": "".join(traceback.format_tb(raised.__traceback__)),
        }
    )
    response.status_code = status
    return response


def validation_error(raised: ValidationError, status: int = 422) -> Response:
    """The list of pydantic's errors, as BLISS returns a request that does not validate (422).

    The list is pydantic's own JSON (``type``, ``loc``, ``msg``, ``input``, ``ctx``, ``url``), made safe
    for any input.

    Examples
    --------
    >>> from flask import Flask
    >>> from pydantic import BaseModel, ValidationError
    >>> class Move(BaseModel):
    ...     position: float
    >>> try:
    ...     Move(position="far")
    ... except ValidationError as raised:
    ...     with Flask(__name__).app_context():
    ...         answer = validation_error(raised)
    >>> answer.status_code, answer.get_json()[0]["msg"]
    (422, 'Input should be a valid number, unable to parse string as a number')
    """
    response = jsonify(json.loads(raised.json()))
    response.status_code = status
    return response


def json_body(model: type[Model]) -> Model:
    """The request's JSON body validated by ``model``, as flask-openapi3 does it for BLISS's routes.

    A body that is not sent as JSON (``Content-Type: application/json``, or another ``+json`` type), or
    does not parse, counts as no body at all: 422 ``model_type`` ("Input should be a valid dictionary or
    instance of ..."), as flask-openapi3 answers BLISS's routes. So a cross-site "simple request"
    (``text/plain``) never reaches a route's code.

    Raises
    ------
    Refusal
        The body does not validate: 422 with pydantic's error list.

    Examples
    --------
    >>> from flask import Flask
    >>> from pydantic import BaseModel
    >>> class Call(BaseModel):
    ...     function: str
    >>> app = Flask(__name__)
    >>> with app.test_request_context(json={"function": "wa"}):
    ...     json_body(Call).function
    'wa'
    >>> with app.test_request_context(data='{"function": "wa"}', content_type="text/plain"):
    ...     try:
    ...         json_body(Call)
    ...     except Refusal as refusal:
    ...         print(refusal.response.status_code, refusal.response.get_json()[0]["msg"])
    422 Input should be a valid dictionary or instance of Call
    """
    from pydantic import ValidationError

    body = request.get_json(silent=True)  # None unless sent as JSON and parsed
    try:
        if isinstance(body, str):
            return model.model_validate_json(body)
        return model.model_validate(body)
    except ValidationError as raised:
        raise Refusal(validation_error(raised)) from None


def refusal_text(response: Response) -> str:
    """What a refused answer says, in one line: its ``error``, its ``exception``, or its validation messages.

    Examples
    --------
    >>> from flask import Flask
    >>> with Flask(__name__).app_context():
    ...     refusal_text(error(404, "No such function"))
    'No such function'
    """
    try:
        body = json.loads(response.get_data(as_text=True)) if response.is_json and not response.is_streamed else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        text = body.get("error") or body.get("exception")
        if text:
            return " ".join(str(text).split())
    if isinstance(body, list) and body:
        parts = []
        for item in body:
            if isinstance(item, dict):
                where = ".".join(str(part) for part in item.get("loc", ()))
                parts.append(f"{where}: {item.get('msg', '')}" if where else str(item.get("msg", "")))
        return "; ".join(parts)
    return response.status
