"""The walkthroughs in docs/walkthroughs/ hold whatever day and hour the demo is loaded.

The pages' steps run in their order against the demo, loaded on several days at several hours (the
small hours, the day, late at night), and every block a page marks `<!-- output: name -->` must match
what its step returned. A block may be trimmed: an object shows some of its keys, a list ends or
skips with "…" (or "..."), a text block shows some of the lines in order. Dates, times, ids, tokens
and claim numbers are compared by their form only, since they follow the day the demo was loaded;
everything else (counts, statuses, names, amounts, minutes, codes, messages) must be the same.
"""

from __future__ import annotations

import importlib.util
import json
import re
import textwrap
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.demo import gid, load_demo
from app.rules.edi837 import parse_segments
from tests.conftest import ROOT, GraphQLClient, make_token
from tests.support.builders_sessions import set_now

PAGES = ROOT / "docs" / "walkthroughs"
EXAMPLES = ROOT / "examples"
PHOENIX = ZoneInfo("America/Phoenix")
OUTPUT = re.compile(
    r"^(?P<indent>[ ]*)<!-- output: (?P<name>[\w-]+) -->\n(?P=indent)```(?P<lang>\w*)\n(?P<text>.*?)\n(?P=indent)```",
    re.S | re.M,
)
TRIM = ("…", "...")
ANY_ORDER = "(any order)"

# (weekday, hour, minute) in Phoenix, this week: after midnight the sessions that ran before the live
# one fall on the day before; late at night the later one falls on the next day.
LOAD_TIMES = [(0, 0, 10), (1, 0, 45), (2, 14, 0), (3, 2, 25), (4, 16, 45), (6, 23, 40)]


def example(path: str) -> str:
    return (EXAMPLES / path).read_text()


def documented_outputs() -> dict[str, tuple[str, str, str]]:
    """name → (page, language, text) of every marked output block."""
    found: dict[str, tuple[str, str, str]] = {}
    for page in sorted(PAGES.glob("*.md")):
        for match in OUTPUT.finditer(page.read_text()):
            assert match["name"] not in found, f"{match['name']} is marked twice"
            found[match["name"]] = (page.name, match["lang"], textwrap.dedent(match["text"]))
    return found


# ------------------------------------------------------------------ trimmed, by form


FORMS = [
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?"), "<datetime>"),
    (re.compile(r"\b\d{8}T\d{6}Z?\b"), "<datetime>"),  # iCalendar's form
    (re.compile(r"(?<=\*D8\*)\d{8}\b"), "<date>"),  # an X12 date (DTP's D8 form)
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b"), "<date>"),
    (re.compile(r"\b\d{2}:\d{2}(:\d{2})?\b"), "<time>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<uuid>"),
    (re.compile(r"\bGS[0-9A-F]{12}\b"), "<claim number>"),
    # Global ids, secrets and hashes: long, with a digit and a lower-case letter (codes have neither).
    (re.compile(r"(?=[\w-]*\d)(?=[\w-]*[a-z])[A-Za-z0-9_-]{20,}…?"), "<id>"),
]


def by_form(text: str) -> str:
    for pattern, form in FORMS:
        text = pattern.sub(form, text)
    return text


def is_trim(value: Any) -> bool:
    return isinstance(value, str) and (value in TRIM or value.startswith("…"))


def mismatches(shown: Any, actual: Any, path: str = "") -> list[str]:
    if isinstance(shown, dict):
        if not isinstance(actual, dict):
            return [f"{path}: {actual!r} is not an object"]
        found = []
        for key, value in shown.items():
            if key not in actual:
                found.append(f"{path}.{key}: not in the output")
            else:
                found += mismatches(value, actual[key], f"{path}.{key}")
        return found
    if isinstance(shown, list):
        if not isinstance(actual, list):
            return [f"{path}: {actual!r} is not a list"]
        return _list_mismatches(shown, actual, path)
    if isinstance(shown, str) and isinstance(actual, str):
        return [] if by_form(shown) == by_form(actual) else [f"{path}: shown {shown!r}, got {actual!r}"]
    same = shown == actual and isinstance(shown, bool) == isinstance(actual, bool)
    return [] if same else [f"{path}: shown {shown!r}, got {actual!r}"]


def _list_mismatches(shown: list, actual: list, path: str) -> list[str]:
    """Items in order; after a "…" the next shown item may come any number of items later. A list
    that opens with "(any order)" is one whose order the API does not fix: each shown item matches
    an item of its own, and all of them are shown unless a "…" says more."""
    if shown and shown[0] == ANY_ORDER:
        items = [item for item in shown[1:] if not is_trim(item)]
        trimmed = len(items) < len(shown) - 1
        if not trimmed and len(items) != len(actual):
            return [f"{path}: {len(actual)} items, {len(items)} shown and no … for the rest"]
        if not _assignable(items, actual, set()):
            return [f"{path}: the items shown do not each match an item of their own: {items!r}"]
        return []
    position, skipping = 0, False
    for item in shown:
        if is_trim(item):
            skipping = True
            continue
        if skipping:
            later = [i for i in range(position, len(actual)) if not mismatches(item, actual[i])]
            if not later:
                return [f"{path}: no item after [{position}] matches {item!r}"]
            position, skipping = later[0] + 1, False
            continue
        if position >= len(actual):
            return [f"{path}: {len(actual)} items, fewer than shown"]
        found = mismatches(item, actual[position], f"{path}[{position}]")
        if found:
            return found
        position += 1
    if not skipping and position != len(actual):
        return [f"{path}: {len(actual)} items, {position} shown and no … for the rest"]
    return []


def _assignable(items: list, actual: list, taken: set[int]) -> bool:
    if not items:
        return True
    return any(
        _assignable(items[1:], actual, taken | {i})
        for i, candidate in enumerate(actual)
        if i not in taken and not mismatches(items[0], candidate)
    )


def text_mismatches(shown: str, actual: str) -> list[str]:
    """Each shown line (by form) appears in the output, in order; "…" lines stand for lines left out."""
    lines = [by_form(line) for line in actual.splitlines()]
    position = 0
    for line in shown.splitlines():
        if line.strip() in TRIM:
            continue
        later = [i for i in range(position, len(lines)) if lines[i] == by_form(line)]
        if not later:
            return [f"line {line!r} is not in the output (after line {position})"]
        position = later[0] + 1
    return []


def test_the_matching_catches_a_changed_number_and_forgives_a_date():
    assert mismatches({"count": 4, "date": "2026-11-30"}, {"count": 4, "date": "2027-01-02", "more": 1}) == []
    assert mismatches({"count": 4}, {"count": 6}) != []
    assert mismatches([1, "…", 5], [1, 2, 3, 5, 6]) != [] and mismatches([1, "…", 5, "…"], [1, 2, 3, 5, 6]) == []
    assert mismatches([1, 2], [1, 2, 3]) != [] and mismatches(True, 1) != []
    assert mismatches("GROUP_UNATTENDED_BILLED", "SUPERVISION_RATIO_BREACH") != []
    assert mismatches("R3JvdXBTZXNzaW9uOjRkNmFk…", "R3JvdXBTZXNzaW9uOmY5YTkxZDQ0LWI3ZjQtNGM") == []
    assert text_mismatches("a 1\n…\nc 2026-11-30", "a 1\nb\nc 2027-01-02") == []
    assert text_mismatches("c\na", "a\nc") != []
    assert mismatches(["(any order)", {"s": "B"}, {"s": "A"}], [{"s": "A"}, {"s": "B"}]) == []
    assert mismatches(["(any order)", {"s": "B"}], [{"s": "A"}, {"s": "B"}]) != []
    assert mismatches(["(any order)", {"s": "B"}, {}], [{"s": "B"}, {"s": "A"}]) == []
    assert mismatches(["(any order)", {}, {"s": "B"}, "…"], [{"s": "B"}, {"s": "A"}, {"s": "C"}]) == []
    assert mismatches(["(any order)", {"s": "B"}, {"s": "B"}, "…"], [{"s": "B"}, {"s": "A"}]) != []


# ------------------------------------------------------------------ the walk


def watch_line():
    """examples/watch_session.py's own line for an update, so the page shows what the script prints."""
    spec = importlib.util.spec_from_file_location("watch_session", EXAMPLES / "watch_session.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.describe


async def subscribe(socket, query: str, variables: dict) -> dict:
    assert (await socket.receive_json())["type"] == "connection_ack"
    await socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}})
    return await next_update(socket)


async def next_update(socket) -> dict:
    message = await socket.receive_json()
    assert message["type"] == "next" and "errors" not in message["payload"], message
    return message["payload"]["data"]


async def refused(gql: GraphQLClient, document: str, variables: dict, status: int) -> dict:
    response = await gql.post(document, variables)
    assert response.status_code == status, response.text
    return response.json()


async def recent_sessions(gql: GraphQLClient, today) -> dict[tuple[str, str], dict]:
    """Yesterday's to tomorrow's sessions by (title, status): loaded after midnight, the sessions
    that ran before the live one are yesterday's."""
    page = await gql.execute(
        "query($from: Date!, $to: Date!) { groupSessions(filter: {from: $from, to: $to}, first: 50) "
        "{ edges { node { id title status } } } }",
        {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()},
    )
    return {(e["node"]["title"], e["node"]["status"]): e["node"] for e in page["groupSessions"]["edges"]}


async def group_id(gql: GraphQLClient, name: str) -> str:
    groups = (await gql.execute("{ groups(first: 20) { edges { node { id name } } } }"))["groups"]["edges"]
    return next(g["node"]["id"] for g in groups if g["node"]["name"] == name)


def segments(edi: str, *names: str) -> str:
    return "\n".join("*".join(s) + "~" for s in parse_segments(edi) if s[0] in names)


async def walk(http: httpx.AsyncClient, ws, today, clock) -> dict[str, Any]:
    """Every page's steps, in the pages' order; what each marked block shows."""
    out: dict[str, Any] = {}
    gql = GraphQLClient(http, make_token(subject="dev-admin"))  # as the admin token `make run` prints
    facility = gid("Facility", "facility", "desert-bloom")

    # scheduler.md
    created = await gql.execute(
        example("scheduler/create_iop_group.graphql"),
        {"facilityId": facility, "facilitatorId": gid("Staff", "staff", 0)},
    )
    afternoons = created["createGroup"]["id"]
    out["create-iop-group"] = created
    out["generate-month"] = await gql.execute(example("scheduler/generate_month.graphql"), {"groupId": afternoons})
    out["generate-month-again"] = await gql.execute(
        example("scheduler/generate_month.graphql"), {"groupId": afternoons}
    )
    out["compliance"] = await gql.execute(
        example("scheduler/compliance.graphql"), {"groupId": afternoons, "weekOf": "2026-12-09"}
    )
    evenings = await group_id(gql, "IOP Evenings (short of hours)")
    out["demo-compliance"] = await gql.execute(example("scheduler/compliance.graphql"), {"groupId": evenings})

    # facilitator.md
    todays = (await gql.execute(example("tablet/todays_sessions.graphql")))["groupSessions"]["edges"]
    live = next(s["node"] for s in todays if s["node"]["status"] == "IN_PROGRESS")
    out["todays-sessions"] = live
    roster = (await gql.execute(example("tablet/session_roster.graphql"), {"sessionId": live["id"]}))["groupSession"]
    out["session-roster"] = roster
    out["live-preview"] = await gql.execute(example("tablet/billing_preview.graphql"), {"sessionId": live["id"]})
    unmarked = next(r for r in roster["roster"] if r["status"] == "SCHEDULED")
    mark = {"participantId": unmarked["id"], "status": "ABSENT", "expectedStatus": "SCHEDULED"}
    out["mark-absent"] = await gql.execute(example("tablet/mark_attendance.graphql"), mark)
    out["mark-again"] = await refused(gql, example("tablet/mark_attendance.graphql"), mark, 409)
    after = await gql.execute(example("tablet/billing_preview.graphql"), {"sessionId": live["id"]})
    out["live-issues-after-mark"] = [i["code"] for i in after["groupSession"]["billingPreview"]["issues"]]
    describe = watch_line()
    async with ws() as socket:
        updates = [await subscribe(socket, example("room-display/session_updates.graphql"), {"sessionId": live["id"]})]
        late = next(r for r in roster["roster"] if r["status"] == "LATE")
        await gql.execute(
            example("tablet/mark_attendance.graphql"),
            {"participantId": late["id"], "status": "ATTENDED", "expectedStatus": "LATE"},
        )
        updates.append(await next_update(socket))
    out["watch-session"] = "\n".join(describe(u["sessionUpdates"]) for u in updates)

    # billing-office.md
    sessions = await recent_sessions(gql, today)
    ended = sessions[("Morning CBT Group", "AWAITING_FINALIZATION")]
    billed = sessions[("Grief Support Circle", "LOCKED")]
    # payer-answers.md's queues, as the billing office finds them in the morning
    out["work-queues"] = await gql.execute(
        example("billing/work_queues.graphql"), {"hoursAfterEnd": 0, "withinDays": 30}
    )
    out["run-billing-awaiting"] = await refused(
        gql, example("billing/run_billing.graphql"), {"sessionId": ended["id"]}, 409
    )
    detail = (await gql.execute(example("tablet/session_roster.graphql"), {"sessionId": ended["id"]}))["groupSession"]
    [last] = [r for r in detail["roster"] if r["status"] == "SCHEDULED"]
    out["mark-ended-absent"] = await gql.execute(
        example("tablet/mark_attendance.graphql"),
        {"participantId": last["id"], "status": "ABSENT", "expectedStatus": "SCHEDULED"},
    )
    preview = await gql.execute(example("tablet/billing_preview.graphql"), {"sessionId": ended["id"]})
    out["ended-blocking-after-mark"] = sorted(
        {i["code"] for i in preview["groupSession"]["billingPreview"]["issues"] if i["severity"] == "BLOCKING"}
    )
    grief = await gql.execute(example("billing/claims.graphql"), {"sessionId": billed["id"]})
    out["grief-claims"] = grief
    draft = next(c for c in grief["groupSession"]["claims"] if c["status"] == "DRAFT")
    submitted = (await gql.execute(example("billing/submit_claim.graphql"), {"claimId": draft["id"]}))["submitClaim"]
    out["submit-claim"] = {k: v for k, v in submitted.items() if k != "edi837"}
    out["submitted-837p"] = segments(submitted["edi837"], "NM1", "N4", "SBR", "PRV", "CLM", "REF", "HI", "SV1")

    # clinician.md
    marcus = gql.as_(subject=gid("Staff", "staff", 1), facilities=[facility])
    priya = gql.as_(subject=gid("Staff", "staff", 2), facilities=[facility])
    notes = (await gql.execute(example("clinician/session_notes.graphql"), {"sessionId": ended["id"]}))["groupSession"]
    out["session-notes"] = notes
    out["ended-preview"] = await gql.execute(example("tablet/billing_preview.graphql"), {"sessionId": ended["id"]})
    drafts = [n for n in notes["groupNote"]["memberNotes"] if n["status"] == "DRAFT"]
    signatures = []
    for note in drafts:
        await marcus.execute(example("clinician/write_member_note.graphql"), {"id": note["id"]})
        signatures.append(await marcus.execute(example("clinician/sign_note.graphql"), {"id": note["id"]}))
    out["sign-note"] = signatures[0]
    out["edit-signed"] = await refused(
        marcus, example("clinician/write_member_note.graphql"), {"id": drafts[0]["id"]}, 409
    )
    out["addendum"] = await marcus.execute(
        example("clinician/add_addendum.graphql"),
        {"noteId": drafts[0]["id"], "text": "Called after group: the lapse was a single drink; plan reviewed."},
    )
    cosigned, not_required = [], []
    for note in notes["groupNote"]["memberNotes"]:
        body = (await priya.post(example("clinician/cosign_note.graphql"), {"id": note["id"]})).json()
        (not_required if body.get("errors") else cosigned).append(body)
    out["cosign"] = cosigned[0]["data"]
    out["cosign-not-required"] = not_required[0]
    out["ended-claims"] = await gql.execute(example("billing/claims.graphql"), {"sessionId": ended["id"]})
    out["documentation-rule"] = await gql.execute(
        example("billing/documentation_rule.graphql"), {"payerId": gid("Payer", "payer", "AHCCCS")}
    )
    video = next(c for c in grief["groupSession"]["claims"] if c["status"] == "SUBMITTED")
    edi = (await gql.execute("query($id: ID!) { claim(id: $id) { edi837 } }", {"id": video["id"]}))["claim"]["edi837"]
    out["telehealth-837p"] = segments(edi, "NM1", "CLM", "SV1")
    indigo = gid("Patient", "patient", 8)
    out["attendance-history"] = await gql.execute(
        example("clinician/attendance_history.graphql"), {"patientId": indigo}
    )
    out["patients-at-risk"] = await gql.execute(example("clinician/patients_at_risk.graphql"), {"facilityId": facility})

    # room-display.md
    pairing = (await http.post("/display/pairings")).json()
    out["pair-display"] = await gql.execute(
        "mutation($code: String!, $facilityId: ID!) { pairDisplay(code: $code, facilityId: $facilityId, "
        'location: "Room 6", label: "Room 6 wall") { location label } }',
        {"code": pairing["code"], "facilityId": facility},
    )
    async with ws() as socket:
        out["room-display"] = await subscribe(
            socket, example("room-display/room_preview.graphql"), {"facilityId": facility, "location": "Room 6"}
        )

    # calendars.md
    mornings = await group_id(gql, "IOP Mornings (compliant)")
    feed = await gql.execute(example("calendar/create_feed.graphql"), {"groupId": mornings, "label": "Front desk"})
    out["create-feed"] = feed
    url = feed["createCalendarFeed"]["url"]
    response = await http.get(url)
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    out["calendar-feed"] = f"HTTP/1.1 {response.status_code} OK\n{headers}\n\n{response.text}"
    again = await http.get(url, headers={"If-None-Match": response.headers["etag"]})
    wrong = await http.get(url.split("token=")[0] + "token=wrong")
    out["calendar-feed-polling"] = f"{again.status_code}\n{wrong.text} {wrong.status_code}"

    # program-coordinator.md
    mesa = gid("Payer", "payer", "MESA")
    rowan, sloane = gid("Patient", "patient", 30), gid("Patient", "patient", 31)
    out["coordinator-program"] = await gql.execute(example("coordinator/set_payer_program.graphql"), {"payerId": mesa})
    afternoons_group = await group_id(gql, "IOP Afternoons (Mesa, per diem)")
    occurrences = (
        await gql.execute(
            "query($id: ID!) { group(id: $id) { occurrences(first: 3) { edges { node { sessionDate session { id } } } } } }",
            {"id": afternoons_group},
        )
    )["group"]["occurrences"]["edges"]
    _, last_of_day, upcoming = (o["node"] for o in occurrences)
    out["coordinator-eligibility"] = await gql.execute(
        example("coordinator/check_eligibility.graphql"), {"patientId": sloane, "serviceDate": upcoming["sessionDate"]}
    )
    out["coordinator-eligibility-active"] = await gql.execute(
        example("coordinator/check_eligibility.graphql"), {"patientId": rowan, "serviceDate": upcoming["sessionDate"]}
    )
    out["coordinator-upcoming"] = await gql.execute(
        example("coordinator/session_coverage.graphql"), {"sessionId": upcoming["session"]["id"]}
    )
    out["coordinator-enrollments"] = await gql.execute(
        "query($id: ID!) { group(id: $id) { enrollments(first: 5) { edges { node { patient { name } "
        "coverageAlerts { code severity message } } } } } }",
        {"id": afternoons_group},
    )
    out["coordinator-per-diem"] = await gql.execute(
        example("coordinator/program_day.graphql"), {"sessionId": last_of_day["session"]["id"]}
    )
    authorizations = await gql.execute(example("coordinator/prior_authorizations.graphql"), {"patientId": rowan})
    out["coordinator-authorizations"] = authorizations
    (held,) = authorizations["priorAuthorizations"]
    extended_to = (datetime.fromisoformat(held["endsOn"]) + timedelta(days=42)).date().isoformat()
    change = {"number": held["number"], "program": "IOP", "unitKind": "DAYS", "authorized": 30,
              "startsOn": held["startsOn"], "endsOn": extended_to}  # fmt: skip
    out["coordinator-extend"] = await gql.execute(
        example("coordinator/extend_authorization.graphql"), {"authorizationId": held["id"], "input": change}
    )
    after = await gql.execute(example("coordinator/session_coverage.graphql"), {"sessionId": upcoming["session"]["id"]})
    out["coordinator-upcoming-after"] = {
        entry["patient"]["name"]: [alert["code"] for alert in entry["coverageAlerts"]]
        for entry in after["groupSession"]["roster"]
    }
    # payer-answers.md: the demo's past batch, answered by the simulated payer
    files = (await gql.execute(example("billing/remittance_files.graphql")))["ediFiles"]
    out["edi-files"] = [
        {k: e["node"][k] for k in ("kind", "source", "production", "providerAdjustments")} for e in files["edges"]
    ]
    nine_days_ago = (today - timedelta(days=9)).isoformat()
    past = await gql.execute(
        "query($d: Date!) { groupSessions(filter: {from: $d, to: $d}) { edges { node { id title } } } }",
        {"d": nine_days_ago},
    )
    anger = next(e["node"]["id"] for e in past["groupSessions"]["edges"] if e["node"]["title"].startswith("Anger"))
    out["payer-claims"] = await gql.execute(example("billing/claim_postings.graphql"), {"sessionId": anger})
    remittance = next(e["node"]["text"] for e in reversed(files["edges"]) if e["node"]["kind"] == "REMITTANCE")
    out["import-again"] = await gql.execute(example("billing/import_edi.graphql"), {"text": remittance})
    lines = remittance.splitlines()
    first_clp = next(i for i, line in enumerate(lines) if line.startswith("CLP*"))
    elements = lines[first_clp].split("*")
    lines[first_clp] = "*".join([*elements[:2], "99", *elements[3:]])  # CLP02: no such claim status
    broken = "\n".join(lines)
    out["import-refused"] = (await gql.post(example("billing/import_edi.graphql"), {"text": broken + "\n"})).json()
    out["submit-batches"] = await gql.execute(example("billing/submit_claim_batches.graphql"))
    # program-coordinator.md, once the other pages' queues and batch are read: the day's claim is sent.
    out.update(await the_days_claim_sent(gql, last_of_day["session"]["id"]))
    # program-coordinator.md, once every page's steps are done: the clock moves to the group's next session.
    out.update(await a_short_program_day(gql, clock, upcoming))
    return out


ACCEPT = """mutation($sessionId: ID!, $code: BillingIssueCode!, $note: String!) {
  acceptBillingIssue(sessionId: $sessionId, code: $code, note: $note) { readyToBill } }"""


async def the_days_claim_sent(gql, session_id: str) -> dict[str, Any]:
    """The billing office accepts the per-diem day's warnings on its last session, with a note, and submits the
    day's claim: its 837P's claim, authorization, service and date lines. After the work queues and the daily
    batch are read, since the claim then leaves the drafts they count."""
    out: dict[str, Any] = {}
    day = await gql.execute(
        "query($id: ID!) { groupSession(id: $id) { claims { id perDiem status validation { code severity } } } }",
        {"id": session_id},
    )
    (claim,) = [c for c in day["groupSession"]["claims"] if c["perDiem"] and c["status"] == "DRAFT"]
    notes = {
        "NOTE_UNSIGNED": "Note signed on paper at the program; scanned into the chart",
        "AUTH_EXPIRING": "Extension requested from Mesa",
    }
    for issue in claim["validation"]:
        await gql.execute(ACCEPT, {"sessionId": session_id, "code": issue["code"], "note": notes[issue["code"]]})
    day = await gql.execute(
        "query($id: ID!) { groupSession(id: $id) { claims { status perDiem "
        "validation { code severity message accepted } } } }",
        {"id": session_id},
    )
    out["coordinator-accept-day"] = day
    submitted = (await gql.execute(example("billing/submit_claim.graphql"), {"claimId": claim["id"]}))["submitClaim"]
    out["coordinator-submit-day"] = {k: v for k, v in submitted.items() if k != "edi837"}
    out["coordinator-day-837p"] = "\n".join(
        "*".join(s) + "~"
        for s in parse_segments(submitted["edi837"])
        if s[0] in ("CLM", "SV1") or s[:2] in (["REF", "G1"], ["DTP", "472"])
    )
    return out


VISIT = (
    """mutation($id: ID!, $i: ParticipantVisitInput!) { setParticipantVisit(participantId: $id, input: $i) { id } }"""
)


async def a_short_program_day(gql, clock, upcoming: dict) -> dict[str, Any]:
    """The clock at the group's next session, Rowan there two of its three hours (Sloane absent): its preview's
    BELOW_PROGRAM_MINIMUM."""
    out: dict[str, Any] = {}
    detail = await gql.execute(
        "query($id: ID!) { groupSession(id: $id) { startsAt roster { id patient { name } } } }",
        {"id": upcoming["session"]["id"]},
    )
    starts_at = datetime.fromisoformat(detail["groupSession"]["startsAt"])
    set_now(clock, starts_at + timedelta(hours=2, minutes=30))
    for entry in detail["groupSession"]["roster"]:
        there = entry["patient"]["name"] == "Rowan Castillo"
        await gql.execute(
            example("tablet/mark_attendance.graphql"),
            {"participantId": entry["id"], "status": "ATTENDED" if there else "ABSENT", "expectedStatus": "SCHEDULED"},
        )
        if there:
            await gql.execute(
                VISIT, {"id": entry["id"], "i": {"departedAt": (starts_at + timedelta(hours=2)).isoformat()}}
            )
    preview = await gql.execute(example("tablet/billing_preview.graphql"), {"sessionId": upcoming["session"]["id"]})
    out["coordinator-short-day"] = [
        i for i in preview["groupSession"]["billingPreview"]["issues"] if i["code"] == "BELOW_PROGRAM_MINIMUM"
    ]
    return out


@pytest.mark.parametrize(
    "weekday, hour, minute", LOAD_TIMES, ids=[f"{'MTWTFSS'[d]}{h:02}:{m:02}" for d, h, m in LOAD_TIMES]
)
async def test_the_walkthroughs_outputs_hold_whatever_day_and_hour_the_demo_is_loaded(
    app, services, test_clock, ws, weekday, hour, minute
):
    today = test_clock.now().astimezone(PHOENIX).date()
    day = today + timedelta(days=weekday - today.weekday())
    set_now(test_clock, datetime(day.year, day.month, day.day, hour, minute, tzinfo=PHOENIX))
    assert "Loaded" in await load_demo(services)
    # Addressed as `make run` serves it, so the URLs it answers with are the ones shown.
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000")
    outputs = await walk(http, ws, day, test_clock)

    documented = documented_outputs()
    assert sorted(documented) == sorted(outputs)
    found = {}
    for name, (page, language, text) in documented.items():
        if language == "json":
            problems = mismatches(json.loads(text), outputs[name])
        else:
            problems = text_mismatches(text, outputs[name])
        if problems:
            found[f"{page} {name}"] = problems
    assert found == {}


def test_every_marked_block_parses():
    for name, (page, language, text) in documented_outputs().items():
        assert language in ("json", "text"), (page, name)
        if language == "json":
            json.loads(text)
