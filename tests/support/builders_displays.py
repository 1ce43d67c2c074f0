"""Room display helpers for tests: a screen paired to a room, a group and its sessions in that room,
and the room's subscription."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from tests.support.builders_scheduling import add_occurrence, create_group
from tests.support.builders_sessions import PHOENIX

ROOM = "Group Room 4"

PAIR = """mutation($code: String!, $facilityId: ID!, $location: String!, $label: String!) {
  pairDisplay(code: $code, facilityId: $facilityId, location: $location, label: $label) { id location label pairedBy revokedAt facility { id } }
}"""
REVOKE = "mutation($id: ID!) { revokeDisplay(id: $id) { id revokedAt } }"
ROTATE = "mutation Rotate { rotateDisplayCredential { credential expiresAt display { id } } }"
DISPLAYS = "query($all: Boolean!) { displays(includeRevoked: $all) { totalCount edges { node { id label location revokedAt credentialIssuedAt } } } }"
NAME_FORMAT = "mutation($f: ID!, $format: DisplayNameFormat!) { setDisplayNameFormat(facilityId: $f, format: $format) { id displayNameFormat } }"

ROOM_DISPLAY = """subscription RoomDisplay {
  roomDisplay {
    kind sequence at changedParticipantIds
    room { label location facilityName timezone today nextSessionDate }
    session {
      id title status startTime endTime facilitator { name }
      supervisors { id status staff { name } }
      roster { id status displayName }
      attendance { scheduled attended late absent total }
    }
    billingPreview { billableCount readyToBill band { minSize maxSize procedureCode modifiers } issues { code severity message accepted } }
  }
}"""


async def start_pairing(http: httpx.AsyncClient) -> dict:
    response = await http.post("/display/pairings")
    assert response.status_code == 201, response.text
    return response.json()


async def claim(http: httpx.AsyncClient, secret: str) -> dict:
    response = await http.post("/display/pairings/claim", json={"claim": secret})
    assert response.status_code == 200, response.text
    return response.json()


async def pair_screen(http, gql, facility_id: str, location: str = ROOM, label: str = "Room 4 wall") -> tuple[str, str]:
    """A screen asks for a code, staff pair it, the screen claims its credential: (display id, credential)."""
    pairing = await start_pairing(http)
    display = (
        await gql.execute(
            PAIR, {"code": pairing["code"], "facilityId": facility_id, "location": location, "label": label}
        )
    )["pairDisplay"]
    claimed = await claim(http, pairing["claim"])
    assert claimed["state"] == "PAIRED", claimed
    return display["id"], claimed["credential"]


async def room_group(
    gql, clinic, location: str = ROOM, name: str = "Morning IOP", facilitator_id: str | None = None
) -> str:
    return await create_group(
        gql, clinic, location=location, name=name, facilitatorId=facilitator_id or clinic.staff[0]
    )


async def room_occurrence(gql, group_id: str, starts_at: datetime, minutes: int = 60) -> dict:
    """An occurrence of `minutes` from `starts_at` (Phoenix time). An occurrence ends on its own day: one
    that would cross midnight (a real-clock test run late in the Phoenix evening) is moved earlier to end
    at 23:59:59, so what was in progress at `starts_at` plus a while still is."""
    local = starts_at.astimezone(PHOENIX)
    end = local + timedelta(minutes=minutes)
    day_end = local.replace(hour=23, minute=59, second=59, microsecond=0)
    if end > day_end:
        end = day_end
        local = max(local.replace(hour=0, minute=0, second=0, microsecond=0), end - timedelta(minutes=minutes))
    return await add_occurrence(
        gql, group_id, session_date=local.date().isoformat(), start=local.time().isoformat(), end=end.time().isoformat()
    )
