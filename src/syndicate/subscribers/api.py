"""The list's API, for a publish job that cannot reach the database (``SYNDICATE_LIST_URL``).

Both routes answer only ``Authorization: Bearer $SYNDICATE_LIST_TOKEN`` (compared in
constant time), and are not there at all without a list token:

* ``GET /api/recipients``: the subscribed readers, one JSON object a line (``id``,
  ``email``, ``name``), streamed from the store page by page, so that neither the service
  nor the job holds the list.  The header ``X-Recipients`` says how many there are as the
  stream starts, and the last line, ``{"end": true, "count": N}``, says that the stream is
  whole: a job that sees the connection end without it knows the list was cut short.
* ``POST /api/bounced``: ``{"id": N, "reason": "550 ..."}``, a reader the mail server
  refused for good during a send: they are marked ``bounced`` and get no more mail.  The
  reason is the server's reply without the address.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from . import store
from .listing import count_recipients
from .listing import recipients as listed
from .web import header

if TYPE_CHECKING:
    from .app import _Service

#: The header of ``GET /api/recipients`` that says how many readers follow.
COUNT_HEADER = "x-recipients"


def _refused(service: _Service, request: Request) -> Response | None:
    """The answer to a request without the list token; None when it holds it."""
    expected = service.settings.list_token
    if expected is None:
        return service.error(404, "Page not found", "There is no page at this address.")
    given = header(request.scope, b"authorization") or ""
    scheme, _, credential = given.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(
        credential.strip().encode("utf-8", "replace"), expected.encode()
    ):
        return None
    return PlainTextResponse(
        "A valid bearer token is required.\n",
        status_code=401,
        headers={"www-authenticate": 'Bearer realm="syndicate"'},
    )


async def recipients(service: _Service, request: Request) -> Response:
    refusal = _refused(service, request)
    if refusal is not None:
        return refusal
    count = await service.run(count_recipients)
    assert service.engine is not None
    engine = service.engine

    def lines() -> Iterator[bytes]:
        sent = 0
        for reader in listed(engine):
            row = {"id": reader.id, "email": reader.email, "name": reader.name}
            yield json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n"
            sent += 1
        yield json.dumps({"end": True, "count": sent}).encode("utf-8") + b"\n"

    return StreamingResponse(
        lines(), media_type="application/x-ndjson", headers={COUNT_HEADER: str(count)}
    )


async def bounced(service: _Service, request: Request) -> Response:
    refusal = _refused(service, request)
    if refusal is not None:
        return refusal
    try:
        body: Any = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        body = None
    reader = body.get("id") if isinstance(body, dict) else None
    reason = body.get("reason", "") if isinstance(body, dict) else None
    if not isinstance(reader, int) or isinstance(reader, bool) or not isinstance(reason, str):
        return JSONResponse({"error": 'expected {"id": N, "reason": "..."}'}, status_code=400)
    marked = await service.run(
        store.mark_bounced, reader, reason=reason, rules=service.rules, now=service.clock()
    )
    return JSONResponse({"bounced": marked})
