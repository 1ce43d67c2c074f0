"""Reference data in GraphQL: facilities, staff, patients, payers, coverage and payer rules."""
