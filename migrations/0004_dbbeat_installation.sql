-- A random id per database, mixed into every task id the beat derives. Task ids are
-- deterministic per (task, slot) so that a re-send after a crash is recognised; without
-- this, two databases sharing one Redis (or a database made anew) would derive the same
-- ids for their own tasks, and the broker would suppress runs as duplicates.
CREATE TABLE IF NOT EXISTS dbbeat_installation (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    id uuid NOT NULL
);

INSERT INTO dbbeat_installation (singleton, id)
VALUES (true, gen_random_uuid())
ON CONFLICT (singleton) DO NOTHING;
