"""A patient's diagnoses (ICD-10-CM): the code's form, the ordered list a clinic keeps, which are
active on a service date, and the 837P's pointers from a service line to them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

# ICD-10-CM: a letter, a digit, a letter or digit; then, after the dot, up to four more
# (F33.1, F10.20, Z63.0, T74.11XA). Written without the dot it is read the same way.
ICD10CM = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$")
MAX_DIAGNOSES = 12  # the 837P's HI segment holds twelve
MAX_POINTERS = 4  # SV107 points at four of them
MAX_DESCRIPTION = 200


@dataclass(frozen=True)
class Diagnosis:
    code: str
    effective_from: date
    effective_to: date | None = None

    def is_active_on(self, day: date) -> bool:
        """Both ends inclusive, as for coverage."""
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


def normalize_icd10cm(code: str) -> str | None:
    """The code in its dotted form (F331 -> F33.1), or None when it is not an ICD-10-CM code's form."""
    cleaned = code.strip().upper()
    if not ICD10CM.match(cleaned):
        return None
    bare = cleaned.replace(".", "")
    return bare if len(bare) == 3 else f"{bare[:3]}.{bare[3:]}"


# The ICD-10-CM code set shipped with simple-icd-10-cm (CMS's tabular list, its April 2026 release: FY2026
# with the April update). One release is shipped, so "valid on the date of service" is approximated by
# "in the release shipped": a code deleted or added at a fiscal year's turn (1 October) is judged by this
# release whatever the service date.
CODE_SET_RELEASE = "ICD-10-CM FY2026 (April 2026 release, CMS tabular list via simple-icd-10-cm)"


@cache
def _code_set():
    import simple_icd_10_cm  # reads its tabular list once (about 2 s): only when a code is checked

    return simple_icd_10_cm


def billable_code_problem(code: str) -> str | None:
    """Why `code` (dotted or not) cannot go on a claim: not a code of the ICD-10-CM release, or a category
    or subcategory with codes below it (F32, F10.2): only a leaf code is billable. None when it can."""
    cleaned = code.strip().upper()
    if not ICD10CM.match(cleaned):
        return f"{code} is not an ICD-10-CM code"
    codes = _code_set()
    if not codes.is_valid_item(cleaned):
        return f"{code} is not a code of {CODE_SET_RELEASE}"
    if not codes.is_leaf(cleaned):
        return f"{code} is a category with more specific codes below it; only a billable (leaf) code can be billed"
    return None


def diagnosis_list_problems(diagnoses: Sequence[Diagnosis]) -> list[str]:
    """What is wrong with a patient's ordered list (codes already normalized)."""
    problems: list[str] = []
    if len(diagnoses) > MAX_DIAGNOSES:
        problems.append(f"a patient may have at most {MAX_DIAGNOSES} diagnoses")
    for number, diagnosis in enumerate(diagnoses, 1):
        if diagnosis.effective_to is not None and diagnosis.effective_to < diagnosis.effective_from:
            problems.append(f"diagnosis {number} ({diagnosis.code}): effectiveTo must not be before effectiveFrom")
    for number, diagnosis in enumerate(diagnoses, 1):
        for other in diagnoses[number:]:
            if other.code == diagnosis.code and _overlap(diagnosis, other):
                problems.append(f"{diagnosis.code} is listed twice for overlapping dates")
    return problems


def _overlap(a: Diagnosis, b: Diagnosis) -> bool:
    a_end, b_end = a.effective_to or date.max, b.effective_to or date.max
    return a.effective_from <= b_end and b.effective_from <= a_end


def active_diagnosis_codes(diagnoses: Iterable[Diagnosis], day: date) -> tuple[str, ...]:
    """The codes active on `day`, in the patient's order (the first is the principal diagnosis)."""
    codes: list[str] = []
    for diagnosis in diagnoses:
        if diagnosis.is_active_on(day) and diagnosis.code not in codes:
            codes.append(diagnosis.code)
    return tuple(codes[:MAX_DIAGNOSES])


def diagnosis_pointers(diagnosis_count: int) -> tuple[int, ...]:
    """A service line's SV107 pointers: the first four diagnoses of the claim's HI segment."""
    return tuple(range(1, min(diagnosis_count, MAX_POINTERS) + 1))
