"""Diagnoses: the ICD-10-CM form, the ordered list, what is active on a date, SV107 pointers."""

from __future__ import annotations

from datetime import date

import pytest

from app.rules.diagnoses import (
    Diagnosis,
    active_diagnosis_codes,
    diagnosis_list_problems,
    diagnosis_pointers,
    normalize_icd10cm,
)


@pytest.mark.parametrize(
    "code, normalized",
    [
        ("F33.1", "F33.1"),
        ("f331", "F33.1"),
        (" F10.20 ", "F10.20"),
        ("Z63.0", "Z63.0"),
        ("T74.11XA", "T74.11XA"),
        ("F43", "F43"),
        ("F41.", None),
        ("33.1", None),
        ("F3.1", None),
        ("F33.12345", None),
        ("F33-1", None),
        ("", None),
        ("F33.1;DROP", None),
    ],
)
def test_normalize_icd10cm(code, normalized):
    assert normalize_icd10cm(code) == normalized


JAN, MAR, JUN = date(2026, 1, 1), date(2026, 3, 10), date(2026, 6, 30)


@pytest.mark.parametrize(
    "diagnoses, day, codes",
    [
        ([], MAR, ()),
        ([Diagnosis("F33.1", JAN)], MAR, ("F33.1",)),
        ([Diagnosis("F33.1", JAN, MAR)], MAR, ("F33.1",)),  # the last day counts
        ([Diagnosis("F33.1", JAN, date(2026, 3, 9))], MAR, ()),
        ([Diagnosis("F33.1", date(2026, 3, 11))], MAR, ()),
        # The patient's order is kept: the principal diagnosis first.
        ([Diagnosis("F10.20", JAN), Diagnosis("F33.1", JAN), Diagnosis("F41.1", JUN)], MAR, ("F10.20", "F33.1")),
        ([Diagnosis("F33.1", JAN, date(2026, 2, 1)), Diagnosis("F33.1", date(2026, 3, 1))], MAR, ("F33.1",)),
        ([Diagnosis(f"F{10 + i}.0", JAN) for i in range(14)], MAR, tuple(f"F{10 + i}.0" for i in range(12))),
    ],
)
def test_active_diagnosis_codes(diagnoses, day, codes):
    assert active_diagnosis_codes(diagnoses, day) == codes


@pytest.mark.parametrize(
    "diagnoses, problem",
    [
        ([Diagnosis("F33.1", JAN), Diagnosis("F41.1", JAN)], None),
        ([Diagnosis("F33.1", MAR, JAN)], "effectiveTo must not be before effectiveFrom"),
        ([Diagnosis("F33.1", JAN), Diagnosis("F33.1", MAR)], "F33.1 is listed twice for overlapping dates"),
        ([Diagnosis("F33.1", JAN, date(2026, 2, 1)), Diagnosis("F33.1", MAR)], None),  # a recurrence, not a duplicate
        ([Diagnosis(f"F{10 + i}.0", JAN) for i in range(13)], "at most 12 diagnoses"),
    ],
)
def test_diagnosis_list_problems(diagnoses, problem):
    problems = diagnosis_list_problems(diagnoses)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("count, pointers", [(0, ()), (1, (1,)), (3, (1, 2, 3)), (4, (1, 2, 3, 4)), (12, (1, 2, 3, 4))])
def test_diagnosis_pointers(count, pointers):
    assert diagnosis_pointers(count) == pointers
