-- dbbeat's own state, kept out of Django's tables (prefix dbbeat_).

-- The leader lease: one row per lease name. `token` is a fencing token that grows with
-- every change of holder, so a former leader's late writes can be recognised.
CREATE TABLE IF NOT EXISTS dbbeat_lease (
    name text PRIMARY KEY,
    holder text NOT NULL,
    token bigint NOT NULL,
    expires_at timestamptz NOT NULL
);

-- One row per insert, update or delete of a schedule or task row (written by the
-- triggers in 0003), so the beat reloads only what changed.
CREATE TABLE IF NOT EXISTS dbbeat_change (
    id bigserial PRIMARY KEY,
    table_name text NOT NULL,
    row_id integer NOT NULL,
    op text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX IF NOT EXISTS dbbeat_change_changed_at_idx ON dbbeat_change (changed_at);
