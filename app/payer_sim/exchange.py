"""The simulated payer as an eligibility exchange: a 270 in, its 271 out, in process (dev, tests, the demo)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from app.payer_sim.answers import answer_inquiries
from app.payer_sim.policy import Policy


def simulated_exchange(
    inactive_members: Iterable[str] = (), policy: Policy | None = None
) -> Callable[[str], Awaitable[str]]:
    """Answers each 270 as `policy` decides (by default: everyone active but `inactive_members`)."""
    chosen = policy or Policy(inactive_members=frozenset(inactive_members))

    async def exchange(inquiry: str) -> str:
        return answer_inquiries(inquiry, chosen)

    return exchange
