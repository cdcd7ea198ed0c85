"""Plain JSON routes served beside the page, for programs: `POST /api/ask`.

Gradio's named endpoint /ask goes through its queue (an event, then a stream of messages): right
for the page, heavy for a program that wants one answer. `POST /api/ask` takes one JSON object,
{"question": …, "k": 5, "history": […], "use_question_dates": true}, and returns the same JSON as
/ask (qa.answering.answer.Answer.to_dict); a bad request gets status 400 and {"error": "…"} in
French (English second). Questions are answered in the server's thread pool, side by side.
"""
from __future__ import annotations

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import QAError
from ..service import Service

# A question with its history is a few kilobytes; a bigger body is refused unread.
MAX_BODY_BYTES = 256 * 1024
NOT_JSON = ("Le corps de la requête doit être un objet JSON, par exemple {\"question\": \"…\"} "
            "(the body must be a JSON object).")
TOO_BIG = f"Requête trop volumineuse (plus de {MAX_BODY_BYTES // 1024} Ko) (request body too large)."
NOT_A_HISTORY = "« history » doit être une liste des questions précédentes (history must be a list)."


class BadRequest(Exception):
    pass


async def _body(request: Request) -> dict:
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BadRequest(TOO_BIG)
        chunks.append(chunk)
    try:
        body = orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError:
        raise BadRequest(NOT_JSON) from None
    if not isinstance(body, dict):
        raise BadRequest(NOT_JSON)
    if body.get("history") is not None and not isinstance(body["history"], list):
        raise BadRequest(NOT_A_HISTORY)
    return body


def _json(data: dict, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def api_routes(service: Service) -> list[Route]:
    """The routes to serve beside the page of `service`."""

    async def ask(request: Request) -> Response:
        try:
            body = await _body(request)
            answer = await run_in_threadpool(service.ask, body.get("question"), k=body.get("k"),
                                             history=body.get("history"),
                                             use_question_dates=bool(body.get("use_question_dates", True)))
        except (BadRequest, QAError) as error:
            return _json({"error": str(error)}, 400)
        return _json(answer.to_dict())

    return [Route("/api/ask", ask, methods=["POST"])]
