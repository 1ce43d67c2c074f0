"""An independent X12 validator for tests: pyx12 through its Python API."""

from __future__ import annotations

import io
import json
from typing import Any

import pyx12.params
import pyx12.x12n_document

from tests.support.x279_maps import IMPLEMENTATION as ELIGIBILITY
from tests.support.x279_maps import map_directory


def pyx12_errors(text: str) -> list[str]:
    """Every error pyx12 reports for the file (its command's exit code does not tell). A 270 or 271 is checked
    against the 005010X279A1 maps of tests/support/x279_maps.py, which pyx12 does not ship."""
    json_out = io.StringIO()
    map_path = map_directory() if ELIGIBILITY in text else None
    valid = pyx12.x12n_document.x12n_document(
        pyx12.params.params(), io.StringIO(text), io.StringIO(), None, None, json_out, map_path=map_path
    )
    errors: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            errors.extend(f"{e['err_cde']}: {e['err_str']}" for e in node.get("errors", []))
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(json.loads(json_out.getvalue() or "{}"))
    if not valid and not errors:
        errors.append("pyx12 rejected the file without naming an error")
    return errors


def claim_file_problems(text: str) -> list[str]:
    """What a clearinghouse would reject in an 837P: the front end's rejection-level findings (each naming its
    005010X222A1 rule or companion-guide edit) and pyx12's errors."""
    from app.rules.edi837 import rejections

    return [str(f) for f in rejections(text)] + [f"pyx12: {e}" for e in pyx12_errors(text)]
