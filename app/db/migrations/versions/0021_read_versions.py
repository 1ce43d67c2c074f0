"""Read versions: what a cached read was computed from (app/http/read_cache.py).

Every table a page can read gets a row trigger that notes, for the writing transaction, the key it
touched: the facility of the row (directly, through its session, or through its group) or
`global`. At commit, one deferred trigger gives each noted key a new number from the
`read_version_numbers` sequence, in key order. A cached answer is served only while the numbers of
its keys are what they were before it was computed, read in the request's own snapshot.

The sequence belongs to no table, so emptying the tables (tests do) never makes a number come back.

Revision ID: 0021_read_versions
Revises: 0020_display_modes
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_read_versions"
down_revision = "0020_display_modes"
branch_labels = None
depends_on = None

# How each table's rows name the facility whose pages they can change; every other table is `global`.
BY_COLUMN = {
    "facilities": "id",
    "group_sessions": "facility_id",
    "group_definitions": "facility_id",
    "room_displays": "facility_id",
    "calendar_feeds": "facility_id",
    "absence_alerts": "facility_id",
}
BY_SESSION = (
    "session_participants",
    "supervisor_attendance",
    "accepted_billing_issues",
    "charges",
    "claims",
    "group_notes",
    "member_notes",
    "note_addenda",
    "audit_entries",
)
BY_GROUP = ("group_occurrences", "enrollments")
# Written beside every change and read by no cached page: no trigger.
UNVERSIONED = (
    "integration_events",
    "consumer_offsets",
    "idempotency_keys",
    "webhook_deliveries",
    "webhook_attempts",
    "read_versions",
    "read_version_marks",
    "alembic_version",
    "attempt_counters",
)

TOUCH = """
CREATE FUNCTION read_versions_touch() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    noted text := coalesce(current_setting('gs.read_version_keys', true), '');
    rows jsonb[];
    row_value jsonb;
    value text;
    found text;
    keys text[] := '{}';
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN  -- TRUNCATE
        keys := ARRAY['global'];
    ELSIF TG_ARGV[0] = 'global' THEN
        keys := ARRAY['global'];
    ELSE
        IF TG_OP <> 'DELETE' THEN rows := rows || to_jsonb(NEW); END IF;
        IF TG_OP <> 'INSERT' THEN rows := rows || to_jsonb(OLD); END IF;
        FOREACH row_value IN ARRAY rows LOOP
            value := row_value ->> TG_ARGV[1];
            found := NULL;
            IF value IS NOT NULL THEN
                IF TG_ARGV[0] = 'column' THEN
                    found := value;
                ELSIF TG_ARGV[0] = 'session' THEN
                    SELECT facility_id::text INTO found FROM group_sessions WHERE id = value::uuid;
                ELSIF TG_ARGV[0] = 'group' THEN
                    SELECT facility_id::text INTO found FROM group_definitions WHERE id = value::uuid;
                END IF;
            END IF;
            keys := keys || coalesce(found, 'global');
        END LOOP;
    END IF;
    FOREACH found IN ARRAY keys LOOP
        IF position(',' || found || ',' IN ',' || noted || ',') = 0 THEN
            IF noted = '' THEN
                INSERT INTO read_version_marks (transaction_id) VALUES (txid_current()) ON CONFLICT DO NOTHING;
                noted := found;
            ELSE
                noted := noted || ',' || found;
            END IF;
            PERFORM set_config('gs.read_version_keys', noted, true);
        END IF;
    END LOOP;
    RETURN NULL;
END $$
"""

BUMP = """
CREATE FUNCTION read_versions_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    noted text := coalesce(current_setting('gs.read_version_keys', true), '');
    touched text;
BEGIN
    FOR touched IN SELECT DISTINCT k FROM unnest(string_to_array(noted, ',')) AS k WHERE k <> '' ORDER BY k LOOP
        INSERT INTO read_versions (key, version) VALUES (touched, nextval('read_version_numbers'))
        ON CONFLICT (key) DO UPDATE SET version = nextval('read_version_numbers');
    END LOOP;
    PERFORM set_config('gs.read_version_keys', '', true);
    DELETE FROM read_version_marks WHERE transaction_id = NEW.transaction_id;
    RETURN NULL;
END $$
"""


def _versioned_tables() -> list[str]:
    names = op.get_bind().execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
    return sorted(name for (name,) in names if name not in UNVERSIONED)


def upgrade() -> None:
    op.execute("CREATE SEQUENCE read_version_numbers")
    op.create_table(
        "read_versions",
        sa.Column("key", sa.String(length=40), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "read_version_marks",
        sa.Column("transaction_id", sa.BigInteger(), primary_key=True, autoincrement=False),
    )
    op.execute(TOUCH)
    op.execute(BUMP)
    op.execute(
        "CREATE CONSTRAINT TRIGGER read_versions_bump AFTER INSERT ON read_version_marks "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION read_versions_bump()"
    )
    for table in _versioned_tables():
        if table in BY_COLUMN:
            arguments = f"'column', '{BY_COLUMN[table]}'"
        elif table in BY_SESSION:
            arguments = "'session', 'session_id'"
        elif table in BY_GROUP:
            arguments = "'group', 'group_id'"
        else:
            arguments = "'global', ''"
        op.execute(
            f'CREATE TRIGGER read_versions_touch AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION read_versions_touch({arguments})"
        )
        op.execute(
            f'CREATE TRIGGER read_versions_truncate AFTER TRUNCATE ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION read_versions_touch('global', '')"
        )


def downgrade() -> None:
    for table in _versioned_tables():
        op.execute(f'DROP TRIGGER IF EXISTS read_versions_touch ON "{table}"')
        op.execute(f'DROP TRIGGER IF EXISTS read_versions_truncate ON "{table}"')
    op.drop_table("read_version_marks")
    op.drop_table("read_versions")
    op.execute("DROP FUNCTION read_versions_bump()")
    op.execute("DROP FUNCTION read_versions_touch()")
    op.execute("DROP SEQUENCE read_version_numbers")
