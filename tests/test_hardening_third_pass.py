"""Issue 25, the third pass: each attack the probe found, reproduced through the endpoint, refused or
bounded, while a canary client (tests/support/canary.py) is served beside it."""

from __future__ import annotations

import asyncio
import json

from app.auth import mint_display_token
from tests.conftest import GRAPHQL_ACCEPT, SECRET, make_token
from tests.support.canary import assert_canary_served, canary_during

# ------------------------------------------------------------------ row 1: Idempotency-Key parsing


def huge_mutations() -> dict[str, str]:
    """~255 KB documents of the kinds that cost a parser most: many tokens, and few long ones."""
    many_tokens = "mutation { " + " ".join(f"a{i}: __typename" for i in range(13_000)) + " }"
    long_string = "mutation { __typename @skip(if: false) } # " + "x" * 250_000
    long_names = "mutation { " + " ".join(f"{'n' * 2000}{i}: __typename" for i in range(120)) + " }"
    return {"many tokens": many_tokens, "a long comment": long_string, "long names": long_names}


async def keyed_post(http, token: str, query: str, key: str):
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": GRAPHQL_ACCEPT,
        "Idempotency-Key": key,
    }
    return await http.post("/graphql", content=json.dumps({"query": query}), headers=headers)


async def test_idempotency_key_documents_are_parsed_within_the_token_limit_off_the_loop(http, gql, clinic):
    tokens = {
        "no scopes": make_token(scopes=(), subject="nobody"),
        "a display's credential": mint_display_token(SECRET, "display-1", clinic.facility_id, 1, 600),
        "an admin": make_token(subject="admin"),
    }
    for who, token in tokens.items():
        for kind, query in huge_mutations().items():
            assert 200_000 < len(query) < 251_000

            async def attack(token=token, query=query, kind=kind, who=who):
                # each one new to the server (a cached parse would hide the cost)
                return await asyncio.gather(
                    *(keyed_post(http, token, f"# {who} {i}\n{query}", f"{kind}-{i}") for i in range(8))
                )

            measured = await canary_during(attack(), gql)
            for response in measured.result:
                assert response.status_code < 500, response.text
                codes = {e["extensions"]["code"] for e in response.json().get("errors", [])}
                assert "INTERNAL" not in codes
                if kind == "many tokens":
                    assert codes == {"QUERY_TOO_COMPLEX"}, response.text
            assert_canary_served(measured, f"8 keyed {kind} documents of {who}")
