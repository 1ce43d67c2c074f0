"""The FHIR R4 routes: GET /metadata, GET /<Resource> (search: a searchset Bundle with paging
links), GET /<Resource>/<id> (read). Everything else is refused with an OperationOutcome and the
status FHIR's RESTful API gives it: 401 without a valid token, 403 without the scope, 404 for an
unknown type or a record beyond the token's facilities, 400 for a search it cannot read, 405 for a
write, 406 for a format other than JSON."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from app.auth import Principal, principal_from_header
from app.db.queries.fhir import Criteria
from app.errors import DomainError, ErrorCode
from app.http.fhir.capability import capability_statement
from app.http.fhir.resources import render
from app.operations import fhir as ops
from app.rules import fhir as rules

PREFIX = "/fhir/R4"
MEDIA_TYPE = "application/fhir+json"
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
JSON_TYPES = ("application/fhir+json", "application/json", "application/*", "*/*", "json")
PAGING = ("_count", "_offset")
DATE_PARAMETERS = {"date", "occurrence", "created"}

log = logging.getLogger(__name__)

STATUS_OF = {
    ErrorCode.UNAUTHENTICATED: (401, "login"),
    ErrorCode.FORBIDDEN: (403, "forbidden"),
    ErrorCode.NOT_FOUND: (404, "not-found"),
    ErrorCode.BAD_USER_INPUT: (400, "invalid"),
}


class Refusal(Exception):
    def __init__(self, status: int, code: str, diagnostics: str) -> None:
        super().__init__(diagnostics)
        self.status, self.code, self.diagnostics = status, code, diagnostics


def fhir_json(body: dict, status: int = 200, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(
        body,
        status_code=status,
        media_type=f"{MEDIA_TYPE}; charset=utf-8",
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def operation_outcome(status: int, code: str, diagnostics: str) -> JSONResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    }
    headers = {"WWW-Authenticate": 'Bearer realm="fhir"'} if status == 401 else None
    return fhir_json(body, status, headers)


def _accepts_json(request: Request) -> bool:
    wanted = request.query_params.get("_format") or request.headers.get("accept") or "*/*"
    kinds = [part.split(";")[0].strip().lower() for part in wanted.split(",")]
    return any(kind in JSON_TYPES for kind in kinds)


def _principal(request: Request) -> Principal:
    return principal_from_header(request.app.state.services.settings.jwt_secret, request.headers.get("authorization"))


def base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}{PREFIX}"


def fhir_answers(handler):
    """Refusals and domain errors as OperationOutcomes; an unexpected fault logged, answered 500."""

    async def run(request: Request) -> Response:
        try:
            if request.method not in ("GET", "HEAD"):
                raise Refusal(405, "not-supported", "This FHIR API is read-only: GET only")
            if not _accepts_json(request):
                raise Refusal(406, "not-supported", "Only JSON is served (application/fhir+json)")
            return await handler(request)
        except Refusal as refusal:
            return operation_outcome(refusal.status, refusal.code, refusal.diagnostics)
        except DomainError as error:
            status, code = STATUS_OF.get(error.code, (500, "exception"))
            return operation_outcome(status, code, error.message if status < 500 else "Internal error")
        except Exception:
            log.exception("FHIR request failed")
            return operation_outcome(500, "exception", "Internal error")

    return run


def _resource_type(request: Request) -> str:
    resource_type = request.path_params["resource_type"]
    if resource_type not in rules.RESOURCE_SCOPES:
        raise Refusal(404, "not-supported", f"{resource_type} is not served; see {PREFIX}/metadata")
    return resource_type


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _reference(name: str, value: str, resource_type: str) -> uuid.UUID | None:
    """`Type/<id>` or the id alone; None when the id can be no record (it then matches nothing)."""
    kind, _, raw = value.rpartition("/")
    if kind and kind.rsplit("/", 1)[-1] != resource_type:
        raise Refusal(400, "invalid", f"{name} must reference a {resource_type}")
    return _uuid_or_none(raw)


def _nothing(criteria: Criteria) -> Criteria:
    return replace(criteria, ids=[])


def criteria_of(request: Request, resource_type: str, now: datetime) -> tuple[Criteria, list[tuple[str, str]]]:
    """The search's criteria, and the parameters it used (for the Bundle's links)."""
    served = {p.name for p in rules.SEARCH_PARAMETERS[resource_type]}
    strict = "handling=strict" in request.headers.get("prefer", "").replace(" ", "").lower()
    used: list[tuple[str, str]] = []
    nothing = False
    values: dict = {}
    for name, value in request.query_params.multi_items():
        if name in PAGING or name == "_format":
            continue
        if name not in served:
            if strict:
                raise Refusal(400, "not-supported", f"{name} is not a search parameter of {resource_type} here")
            continue  # lenient by default, as FHIR has it: the self link shows what was used
        used.append((name, value))
        try:
            if name == "_lastUpdated" or name in DATE_PARAMETERS:
                key = "last_updated" if name == "_lastUpdated" else "date"
                moments = rules.date_range(value)
                values[key] = values[key].narrowed(moments) if key in values else moments
            elif name == "_id":
                ids = [_uuid_or_none(v) for v in value.split(",")]
                values["ids"] = [i for i in ids if i is not None]
            elif name == "status":
                values["statuses"] = [v.strip() for v in value.split(",") if v.strip()]
            elif name == "patient":
                values["patient_id"] = _reference(name, value, "Patient")
                nothing = nothing or values["patient_id"] is None
            elif name == "member":
                values["member_id"] = _reference(name, value, "Patient")
                nothing = nothing or values["member_id"] is None
            elif name == "practitioner":
                values["practitioner_id"] = _reference(name, value, "Practitioner")
                nothing = nothing or values["practitioner_id"] is None
            elif name == "class":
                values["encounter_class"] = value.rpartition("|")[2]
                nothing = nothing or values["encounter_class"] not in ("AMB", "VR")
        except ValueError as error:
            raise Refusal(400, "invalid", f"{name}: {error}") from None
    try:
        count = rules.count(request.query_params.get("_count"))
    except ValueError as error:
        raise Refusal(400, "invalid", str(error)) from None
    offset_text = request.query_params.get("_offset", "0")
    if not offset_text.isdigit() or int(offset_text) > 1_000_000:
        raise Refusal(400, "invalid", "_offset must be a whole number (take it from a Bundle's next link)")
    criteria = Criteria(facility_ids=None, now=now, offset=int(offset_text), limit=count, **values)
    return (_nothing(criteria) if nothing else criteria), used


def _link(request: Request, resource_type: str, used: list[tuple[str, str]], count: int, offset: int) -> str:
    query = urlencode([*used, ("_count", str(count)), ("_offset", str(offset))])
    return f"{base_url(request)}/{resource_type}?{query}"


@fhir_answers
async def metadata(request: Request) -> Response:
    services = request.app.state.services
    now = services.clock.now()
    cors = bool(services.settings.allowed_origins)  # the app's CORS middleware is there only then (app.main)
    return fhir_json(capability_statement(base_url(request), now.date().isoformat(), cors=cors))


@fhir_answers
async def search(request: Request) -> Response:
    resource_type = _resource_type(request)
    actor = _principal(request)
    services = request.app.state.services
    now = services.clock.now()
    criteria, used = criteria_of(request, resource_type, now)
    async with services.sessionmaker() as db:
        found = await ops.search(db, actor, resource_type, criteria)
    base = base_url(request)
    links = [{"relation": "self", "url": _link(request, resource_type, used, criteria.limit, criteria.offset)}]
    if criteria.offset + len(found.rows) < found.total:
        links.append(
            {
                "relation": "next",
                "url": _link(request, resource_type, used, criteria.limit, criteria.offset + criteria.limit),
            }
        )
    if criteria.offset > 0:
        previous = max(0, criteria.offset - criteria.limit)
        links.append({"relation": "previous", "url": _link(request, resource_type, used, criteria.limit, previous)})
    entries = []
    for row in found.rows:
        resource = render(resource_type, row, found, now)
        entries.append(
            {"fullUrl": f"{base}/{resource_type}/{resource['id']}", "resource": resource, "search": {"mode": "match"}}
        )
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": now.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "total": found.total,
        "link": links,
        "entry": entries,
    }
    if not entries:
        del bundle["entry"]
    return fhir_json(bundle)


@fhir_answers
async def read(request: Request) -> Response:
    resource_type = _resource_type(request)
    actor = _principal(request)
    resource_id = _uuid_or_none(request.path_params["resource_id"])
    services = request.app.state.services
    now = services.clock.now()
    async with services.sessionmaker() as db:
        found = await ops.read(db, actor, resource_type, resource_id, Criteria(facility_ids=None, now=now))
    return fhir_json(render(resource_type, found.rows[0], found, now))


def fhir_router() -> Router:
    """Mounted at /fhir/R4 by app.main."""
    return Router(
        routes=[
            Route("/metadata", metadata, methods=METHODS),
            Route("/{resource_type}", search, methods=METHODS),
            Route("/{resource_type}/{resource_id}", read, methods=METHODS),
        ]
    )
