"""pyx12's maps built once per process (app/operations/pyx12_maps.py): every reading finds what a reading with
maps built afresh finds, for good files and bad ones read one after another (nothing of one reading stays in
the shared map), and the library still reads its maps through the one function we replace."""

from __future__ import annotations

import importlib.metadata
import inspect
import logging
from pathlib import Path

import pytest
import pyx12.map_if
import pyx12.x12n_document

from app.operations import pyx12_maps
from app.operations.remittance import pyx12_findings
from app.rules.edi837 import render_837p
from tests.rules.test_edi837 import VARIANTS
from tests.support.x12 import pyx12_errors

FIXTURES = Path(__file__).parent / "fixtures" / "x12"


@pytest.fixture(autouse=True)
def quiet_pyx12(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="pyx12")


def spoiled(text: str) -> list[str]:
    """The file made wrong three ways a reading must report: an element too long, a segment the map does not
    expect, and a required segment left out (each changes what the walker counts)."""
    segments = [s.strip() for s in text.split("~") if s.strip()]
    longer = [s + "X" * 90 if s.startswith(("NM1", "CLP", "STC", "AK2", "EQ")) else s for s in segments]
    extra = segments[:4] + ["ZZZ*1"] + segments[4:]
    fewer = [s for s in segments if not s.startswith(("BHT", "BPR", "AK1"))]
    return ["~\n".join(spoilt) + "~\n" for spoilt in (longer, extra, fewer)]


def files() -> list[str]:
    kinds = ("original", "void", "2310B-taxonomy-and-2310D-supervisor", "delimiters-and-accents-in-names")
    good = [render_837p(VARIANTS[kind]) for kind in kinds]
    good += [path.read_text() for path in sorted(FIXTURES.glob("*.x12")) if not path.name.startswith(("270", "271"))]
    mixed = []
    for text in good:
        mixed += [text, *spoiled(text), text]
    return mixed


def test_a_reading_with_maps_built_once_finds_what_a_reading_with_fresh_maps_finds(monkeypatch):
    texts = files()
    shared = [pyx12_findings(text) for text in texts]
    monkeypatch.setattr(pyx12.map_if, "load_map_file", pyx12_maps._load)  # the library's own: built every time
    fresh = [pyx12_findings(text) for text in texts]
    assert shared == fresh
    for i in range(0, len(texts), 5):  # each good file, its three spoiled copies, then the good file again
        assert fresh[i] == [] and fresh[i + 4] == [], texts[i]
        assert all(fresh[i + 1 : i + 4]), texts[i]


def test_eligibility_files_read_with_their_own_maps_too(monkeypatch):
    texts = [path.read_text() for path in sorted(FIXTURES.glob("27[01]*.x12"))]
    texts = [t for text in texts for t in (text, *spoiled(text), text)]
    shared = [pyx12_errors(text) for text in texts]
    monkeypatch.setattr(pyx12.map_if, "load_map_file", pyx12_maps._load)
    assert shared == [pyx12_errors(text) for text in texts]


def test_the_library_reads_its_maps_through_the_function_replaced():
    assert importlib.metadata.version("pyx12") == "4.0.0"  # read this module again before moving the pin
    assert pyx12.map_if.load_map_file is pyx12_maps.load_map_once
    assert "pyx12.map_if.load_map_file(" in inspect.getsource(pyx12.x12n_document.x12n_document)
