-- Every running beat, leader or standby, so the console can show who stands by (issue 17).
-- Each beat upserts its row at every lease attempt (seen_at by the database's clock) and
-- deletes it on a clean stop; a row not seen for a few lease periods is a beat that died.
-- Append-only: never edit this file once released; add a new numbered file instead.
CREATE TABLE IF NOT EXISTS dbbeat_beat (
    instance text PRIMARY KEY,
    lease_name text NOT NULL,
    hostname text NOT NULL,
    pid integer NOT NULL,
    version text NOT NULL,
    role text NOT NULL CHECK (role IN ('leader', 'standby')),
    lease_seconds float8 NOT NULL,
    started_at timestamptz NOT NULL,
    seen_at timestamptz NOT NULL
);
