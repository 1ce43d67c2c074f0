"""A small clinic builder: facility, payers, bands, staff and patients in a few lines."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

_counter = itertools.count(1)

# NPIs with valid check digits.
NPIS = ["1234567893", "1245319599", "1679576722", "1003000126", "1215930367", "1497758544"]


@dataclass
class Clinic:
    gql: object
    facility_id: str = ""
    payer_id: str = ""
    staff: list[str] = field(default_factory=list)
    patients: list[str] = field(default_factory=list)

    async def facility(self, name="Desert Bloom Behavioral Health", state="AZ", timezone="America/Phoenix") -> str:
        data = await self.gql.execute(
            """mutation($input: FacilityInput!) { createFacility(input: $input) { id } }""",
            {
                "input": {
                    "name": name,
                    "state": state,
                    "timezone": timezone,
                    "npi": "1234567893",
                    "taxId": "861234567",
                    "addressLine1": "2200 E Camelback Rd",
                    "city": "Phoenix",
                    "postalCode": "85016-4312",
                    "submitterId": "DBBH0001",  # the clearinghouse's id for the clinic (ISA06)
                }
            },
        )
        self.facility_id = self.facility_id or data["createFacility"]["id"]
        return data["createFacility"]["id"]

    async def add_staff(self, name: str | None = None, facility_id: str | None = None) -> str:
        n = next(_counter)
        data = await self.gql.execute(
            """mutation($input: StaffInput!) { createStaff(input: $input) { id } }""",
            {
                "input": {
                    "name": name or f"Staff {n}",
                    "facilityId": facility_id or self.facility_id,
                    "npi": NPIS[n % len(NPIS)],
                }
            },
        )
        self.staff.append(data["createStaff"]["id"])
        return data["createStaff"]["id"]

    async def add_patient(
        self, name: str | None = None, facility_id: str | None = None, dob="1980-05-17", diagnoses=("F33.1",)
    ) -> str:
        """A patient with, by default, one diagnosis active since 2020 (a claim needs one)."""
        n = next(_counter)
        data = await self.gql.execute(
            """mutation($input: PatientInput!) { createPatient(input: $input) { id } }""",
            {
                "input": {
                    "mrn": f"MRN{n:05d}",
                    "name": name or f"Patient {n}",
                    "dateOfBirth": dob,
                    "facilityId": facility_id or self.facility_id,
                    "sex": "F",
                    # The subscriber's address (837P 2010BA N3/N4): the patient is the subscriber.
                    "addressLine1": f"{n} W Osborn Rd",
                    "city": "Phoenix",
                    "state": "AZ",
                    "postalCode": "85013",
                }
            },
        )
        patient_id = data["createPatient"]["id"]
        self.patients.append(patient_id)
        if diagnoses:
            await self.diagnose(patient_id, *diagnoses)
        return patient_id

    async def diagnose(
        self, patient_id: str, *codes: str, effective_from="2020-01-01", effective_to=None
    ) -> list[dict]:
        data = await self.gql.execute(
            """mutation($p: ID!, $d: [DiagnosisInput!]!) {
                 setPatientDiagnoses(patientId: $p, diagnoses: $d) { id code position effectiveFrom effectiveTo } }""",
            {
                "p": patient_id,
                "d": [{"code": c, "effectiveFrom": effective_from, "effectiveTo": effective_to} for c in codes],
            },
        )
        return data["setPatientDiagnoses"]

    async def payer(self, name="AHCCCS Complete Care", code: str | None = None) -> str:
        data = await self.gql.execute(
            """mutation($input: PayerInput!) { createPayer(input: $input) { id } }""",
            {"input": {"name": name, "payerCode": code or f"P{next(_counter):04d}"}},
        )
        self.payer_id = self.payer_id or data["createPayer"]["id"]
        return data["createPayer"]["id"]

    async def cover(
        self, patient_id: str, payer_id: str | None = None, priority=1, effective_from="2020-01-01"
    ) -> None:
        await self.gql.execute(
            """mutation($input: CoverageInput!) { addCoverage(input: $input) { id } }""",
            {
                "input": {
                    "patientId": patient_id,
                    "payerId": payer_id or self.payer_id,
                    "memberId": f"M{next(_counter):06d}",
                    "priority": priority,
                    "effectiveFrom": effective_from,
                }
            },
        )

    async def bands(self, bands: list[tuple[int, int, str, str]], payer_id: str | None = None, state="AZ") -> None:
        await self.gql.execute(
            """mutation($input: GroupSizeBandsInput!) { setGroupSizeBands(input: $input) { minSize } }""",
            {
                "input": {
                    "payerId": payer_id or self.payer_id,
                    "state": state,
                    "bands": [
                        {"minSize": lo, "maxSize": hi, "procedureCode": code, "modifiers": ["HQ"], "rate": rate}
                        for lo, hi, code, rate in bands
                    ],
                }
            },
        )

    async def supervise(self, staff_id: str, patient_id: str) -> None:
        await self.gql.execute(
            """mutation($input: StaffAssignmentInput!) { assignStaff(input: $input) { id } }""",
            {"input": {"staffId": staff_id, "patientId": patient_id, "role": "SUPERVISING"}},
        )

    async def supervision_rule(self, ratio: int, payer_id: str | None = None, state="AZ") -> None:
        await self.gql.execute(
            """mutation($input: SupervisionRuleInput!) { setSupervisionRule(input: $input) { state } }""",
            {"input": {"payerId": payer_id or self.payer_id, "state": state, "maxParticipantsPerSupervisor": ratio}},
        )


@pytest.fixture
async def clinic(gql) -> Clinic:
    """A facility in Arizona with one payer, two staff and no patients yet."""
    built = Clinic(gql)
    await built.facility()
    await built.payer()
    await built.add_staff("Dana Facilitator")
    await built.add_staff("Sam Supervisor")
    return built
