"""A payer to test against: reads our 837P batches and 270 inquiries and answers them as a payer would (999,
277CA, 835 and a later reversing 835; 271), deterministically, under a policy tests control."""

from app.payer_sim.answers import PayerAnswers, answer_claims, answer_inquiries
from app.payer_sim.folder import FolderReport, answer_folder
from app.payer_sim.policy import DEFAULT_MIX, Outcome, Policy

__all__ = [
    "DEFAULT_MIX",
    "FolderReport",
    "Outcome",
    "PayerAnswers",
    "Policy",
    "answer_claims",
    "answer_folder",
    "answer_inquiries",
]
