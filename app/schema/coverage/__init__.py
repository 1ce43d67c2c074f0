"""Coverage as the payer answers it: eligibility checks, prior authorizations, payers' coverage rules."""
