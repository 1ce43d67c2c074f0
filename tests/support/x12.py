"""An independent X12 validator for tests: pyx12 through its Python API."""

from __future__ import annotations

import io
import json
import subprocess
import tempfile
import threading
from pathlib import Path
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


_reader: subprocess.Popen | None = None
_reader_lock = threading.Lock()


def _node_reader() -> subprocess.Popen:
    """The test process's one node-x12 reader (tests/clients/read_x12.mjs reading paths from its input),
    started on first use and again if it ended."""
    global _reader
    from tests.support.node import CLIENTS, ensure_node_packages

    if _reader is None or _reader.poll() is not None:
        ensure_node_packages()
        _reader = subprocess.Popen(
            ["node", str(CLIENTS / "read_x12.mjs")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=CLIENTS,
        )
    return _reader


def node_x12_problems(texts: list[str]) -> list[list[str]]:
    """Each file read by node-x12 (npm, strict mode: envelope counts and control numbers), a reader written
    apart from pyx12 and from ours: its error for each file, or [] when it read the file and found its claims."""
    with tempfile.TemporaryDirectory() as folder, _reader_lock:
        paths = []
        for number, text in enumerate(texts):
            path = Path(folder) / f"{number}.x12"
            path.write_text(text)
            paths.append(str(path))
        reader = _node_reader()
        reader.stdin.write("".join(f"{path}\n" for path in paths))
        reader.stdin.flush()
        read = {}
        for _ in paths:
            line = reader.stdout.readline()
            if not line:
                raise RuntimeError(f"node-x12 did not run: {reader.stderr.read()}")
            entry = json.loads(line)
            read[entry["path"]] = entry
    return [
        [f"node-x12: {read[path]['error']}"]
        if "error" in read[path]
        else ([] if read[path]["claims"] else ["node-x12: no CLM"])
        for path in paths
    ]
