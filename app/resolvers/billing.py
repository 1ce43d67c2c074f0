"""Billing operations (built by issue #6)."""
from __future__ import annotations

from typing import Any

from app.errors import NotImplementedYet


def _not_yet(*_: Any, **__: Any) -> Any:
    raise NotImplementedYet("Not implemented yet: built by issue #6")


get_claim = accept_billing_issue = run_billing = submit_claim = _not_yet
session_billing_preview = session_charges = session_claims = claim_charges = _not_yet
