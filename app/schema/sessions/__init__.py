"""Group sessions in GraphQL (CL-14): sessions, rosters, supervisors, attendance, audit."""
