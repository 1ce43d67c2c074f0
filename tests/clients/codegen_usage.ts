// What an integrator writes against the types docs/integrators.md's codegen config generates for
// examples/**/*.graphql; tests/test_integrator_docs.py compiles it with the generated file under
// `tsc --noEmit --strict`. Each `@ts-expect-error` must meet an error, so a type that widens fails too.
import type {
  AttendanceHistoryQuery,
  AttendanceHistoryQueryVariables,
  AttendanceStatus,
  IntegrationEventsQuery,
  MarkAttendanceMutation,
  MarkAttendanceMutationVariables,
  SessionClaimsQuery,
  TodaysSessionsQuery,
} from "./graphql";

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

export const mark: MarkAttendanceMutationVariables = { participantId: "UmVzdDox", status: "LATE", expectedStatus: null };
// @ts-expect-error PRESENT is not an attendance status
export const misspelt: MarkAttendanceMutationVariables = { participantId: "UmVzdDox", status: "PRESENT" };

export function nextChoices(result: MarkAttendanceMutation): AttendanceStatus[] {
  return result.setAttendance.allowedNext.filter((status) => status !== result.setAttendance.status);
}

type Charge = NonNullable<SessionClaimsQuery["groupSession"]>["charges"][number];
type Claim = NonNullable<SessionClaimsQuery["groupSession"]>["claims"][number];
type Event = IntegrationEventsQuery["integrationEvents"]["edges"][number]["node"];
type Visit = AttendanceHistoryQuery["patientAttendance"]["edges"][number]["node"];
type Listed = TodaysSessionsQuery["groupSessions"]["edges"][number]["node"];

export const scalars: [
  Equals<Charge["amount"], string>, // Decimal
  Equals<Charge["serviceDate"], string>, // Date
  Equals<Claim["submittedAt"], string | null>, // DateTime, nullable
  Equals<Listed["startsAt"], string>, // DateTime
  Equals<Visit["startTime"], string>, // Time
  Equals<Event["payload"], unknown>, // JSON
  Equals<AttendanceHistoryQueryVariables["from"], string | null | undefined>, // an optional Date argument
] = [true, true, true, true, true, true, true];

export function cents(charge: Charge): number {
  // @ts-expect-error money is text, never a float: it is parsed on purpose
  const asNumber: number = charge.amount;
  return asNumber === undefined ? 0 : Math.round(Number(charge.amount) * 100);
}
