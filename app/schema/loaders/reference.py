"""Reference data's loaders: facilities, staff, patients and payers by id; a patient's coverages and diagnoses."""

from __future__ import annotations

import uuid

from strawberry.dataloader import DataLoader

from app.db import models
from app.db.queries import reference as queries
from app.schema.context import Info


def facilities(info: Info) -> DataLoader[uuid.UUID, models.Facility | None]:
    return info.context.loaders.by_id(models.Facility)


def staff(info: Info) -> DataLoader[uuid.UUID, models.Staff | None]:
    return info.context.loaders.by_id(models.Staff)


def patients(info: Info) -> DataLoader[uuid.UUID, models.Patient | None]:
    return info.context.loaders.by_id(models.Patient)


def payers(info: Info) -> DataLoader[uuid.UUID, models.Payer | None]:
    return info.context.loaders.by_id(models.Payer)


def coverages(info: Info) -> DataLoader[uuid.UUID, list[models.Coverage]]:
    """A patient's coverages, by priority."""
    return info.context.loaders.of(queries.coverages_by_patient)


def diagnoses(info: Info) -> DataLoader[uuid.UUID, list[models.Diagnosis]]:
    """A patient's diagnoses, in their order."""
    return info.context.loaders.of(queries.diagnoses_by_patient)
