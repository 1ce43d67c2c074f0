"""The list and detail pages read sessions and rosters as read models from Core rows
(app.db.queries.common.read_model) and prefetch their batches; `node(id:)` and the mutations'
answers read the same session through ORM rows and loaders one field at a time. Both must answer
the same, field for field, including through fragments."""

from __future__ import annotations

from tests.support.builders_sessions import NOW, SESSION_FIELDS, at, create_session, set_now

FIELDS = (
    SESSION_FIELDS
    + """
billingPreview { billableCount state readyToBill issues { code } }
roster { patient { id name mrn facility { id } } }
supervisors { staff { id name } }
"""
)

DETAIL = f"query($id: ID!) {{ groupSession(id: $id) {{ {FIELDS} }} }}"
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on GroupSession {{ {FIELDS} }} }} }}"
LIST = f"""query {{ groupSessions(filter: {{from: "2026-03-10", to: "2026-03-10"}}, first: 10) {{
  edges {{ node {{ ...row }} }} }} }}
fragment row on GroupSession {{ {FIELDS} }}"""
SET = "mutation($id: ID!) { setAttendance(participantId: $id, status: ATTENDED) { id } }"


async def test_list_detail_and_node_answer_the_same_session_alike(gql, clinic, test_clock):
    set_now(test_clock, NOW)
    for i in range(3):
        patient = await clinic.add_patient(f"Member {i}")
        await clinic.supervise(clinic.staff[1], patient)
    session = await create_session(gql, clinic, starts_at=at(9))
    await gql.execute(SET, {"id": session["roster"][0]["id"]})
    detail = (await gql.execute(DETAIL, {"id": session["id"]}))["groupSession"]
    node = (await gql.execute(NODE, {"id": session["id"]}))["node"]
    [row] = [edge["node"] for edge in (await gql.execute(LIST))["groupSessions"]["edges"]]
    assert detail == node == row
    assert len(detail["roster"]) == 3 and len(detail["supervisors"]) == 1
    assert detail["attendance"]["attended"] == 1 and detail["sessionDate"] == "2026-03-10"
    assert {entry["patient"]["name"] for entry in detail["roster"]} == {"Member 0", "Member 1", "Member 2"}
