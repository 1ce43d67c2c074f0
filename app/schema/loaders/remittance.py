"""The payer's answers' loaders: postings of a charge or a claim, a patient's balance, a file's PLB
adjustments."""

from __future__ import annotations

import uuid
from decimal import Decimal

from strawberry.dataloader import DataLoader

from app.db import models
from app.db.queries import claim_batches
from app.db.queries import remittance as queries
from app.schema.context import Info


def lines_by_charge(info: Info) -> DataLoader[uuid.UUID, list[models.RemittanceLine]]:
    return info.context.loaders.of(queries.lines_by_charge)


def lines_by_claim(info: Info) -> DataLoader[uuid.UUID, list[models.RemittanceLine]]:
    return info.context.loaders.of(queries.lines_by_claim)


def patient_balances(info: Info) -> DataLoader[uuid.UUID, Decimal]:
    return info.context.loaders.of(queries.patient_balances)


def provider_adjustments(info: Info) -> DataLoader[uuid.UUID, list[models.ProviderAdjustment]]:
    return info.context.loaders.of(queries.provider_adjustments_of_files)


def claims_of_batches(info: Info) -> DataLoader[uuid.UUID, list[models.Claim]]:
    return info.context.loaders.of(claim_batches.claims_of_batches)
