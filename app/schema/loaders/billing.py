"""Billing's loaders: a session's preview; charges and claims by id, of a claim, a session or a patient."""

from __future__ import annotations

import uuid

from strawberry.dataloader import DataLoader

from app.db import models
from app.db.queries import billing as queries
from app.rules.billing import Preview
from app.schema.context import Info


def previews(info: Info) -> DataLoader[uuid.UUID, Preview | None]:
    """A session's billing preview."""
    return info.context.loaders.of(queries.previews)


def charges(info: Info) -> DataLoader[uuid.UUID, models.Charge | None]:
    return info.context.loaders.by_id(models.Charge)


def claims(info: Info) -> DataLoader[uuid.UUID, models.Claim | None]:
    return info.context.loaders.by_id(models.Claim)


def charges_of_claims(info: Info) -> DataLoader[uuid.UUID, list[models.Charge]]:
    return info.context.loaders.of(queries.charges_of_claims)


def charges_by_session(info: Info) -> DataLoader[uuid.UUID, list[models.Charge]]:
    return info.context.loaders.of(queries.charges_by_session)


def claims_by_session(info: Info) -> DataLoader[uuid.UUID, list[models.Claim]]:
    return info.context.loaders.of(queries.claims_by_session)


def charges_by_patient(info: Info) -> DataLoader[uuid.UUID, list[models.Charge]]:
    return info.context.loaders.of(queries.charges_by_patient)


def fee_schedules(info: Info) -> DataLoader[uuid.UUID, list[models.FacilityFee]]:
    """A facility's fee schedule."""
    return info.context.loaders.of(queries.fee_schedules)
