"""Schemathesis hooks for this API (loaded through the generated config's `hooks` key).

schemathesis' own `not_a_server_error` counts every resolver error that has a `path` as a server
error; our contract reports domain errors that way on purpose (rules.md §3: FORBIDDEN, NOT_FOUND,
CONFLICT …), so the run selects `response_schema_conformance` and this check instead: no 5xx, every
error carries one of the contract's codes, and none is INTERNAL.
"""

from __future__ import annotations

import json
from datetime import date

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

CONTRACT_CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "ILLEGAL_TRANSITION",
    "LOCKED",
    "CONFLICT",
    "QUERY_TOO_COMPLEX",
    "INTERNAL",
}


@schemathesis.check
def no_internal_error(ctx, response, case) -> None:
    """No 5xx, a JSON body, every error coded by the contract, and no INTERNAL among them."""
    assert response.status_code < 500, f"HTTP {response.status_code}"
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(
            f"HTTP {response.status_code} with a body that is not JSON: {response.content[:200]!r}"
        ) from None
    errors = body.get("errors") or [] if isinstance(body, dict) else []
    codes = [(error.get("extensions") or {}).get("code") for error in errors]
    uncoded = [error for error, code in zip(errors, codes, strict=False) if code not in CONTRACT_CODES]
    assert not uncoded, f"errors without a contract code: {uncoded}"
    internal = [error for error, code in zip(errors, codes, strict=False) if code == "INTERNAL"]
    assert not internal, f"INTERNAL: {internal}"


def _decimal_text(value) -> str:
    return str(value)


# Money arrives as Decimal: plausible rates, their edges, and hostile spellings.
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(
        st.decimals(min_value=-1000, max_value=10**12, allow_nan=False, allow_infinity=False, places=3).map(
            _decimal_text
        ),
        st.sampled_from(
            ["0", "0.00", "40.00", "-0.01", "NaN", "Infinity", "-Infinity", "1e100", "1E-30", "99999999.99"]
        ),
    ).map(nodes.String),
)
# JSON appears only in responses; a strategy keeps schemathesis from refusing the schema.
schemathesis.graphql.scalar("JSON", st.just("{}").map(nodes.String))


# Dates and times: mostly a clinic's (so mutations can succeed and the stateful phase has ids to
# chain), sometimes anything at all (years 1 to 9999, no offset) to probe the bounds.
_clinic_days = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))
_any_days = st.dates()
_times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
_offsets = st.sampled_from(["-07:00", "+00:00", "Z", "-05:00", ""])

schemathesis.graphql.scalar(
    "Date", st.one_of(_clinic_days, _clinic_days, _clinic_days, _any_days).map(lambda d: nodes.String(d.isoformat()))
)
schemathesis.graphql.scalar("Time", _times.map(lambda t: nodes.String(t.isoformat())))
schemathesis.graphql.scalar(
    "DateTime",
    st.builds(
        lambda d, t, z: f"{d.isoformat()}T{t.isoformat()}{z}",
        st.one_of(_clinic_days, _clinic_days, _any_days),
        _times,
        _offsets,
    ).map(nodes.String),
)
