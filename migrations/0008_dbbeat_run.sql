-- Run history (issue 16): one row per run the beat sent or skipped, then its outcome as
-- Celery reports it (events, result backend). Written by the beat in batches beside its
-- recording of last_run_at; pruned by age and by a row cap.
CREATE TABLE IF NOT EXISTS dbbeat_run (
    id bigserial PRIMARY KEY,
    -- django_celery_beat_periodictask.id and .name at send time; no foreign key: the
    -- history outlives a deleted task.
    periodic_task_id integer NOT NULL,
    periodic_task_name text NOT NULL,
    -- The Celery task name (PeriodicTask.task).
    task text NOT NULL,
    -- The Celery task id; null for a skipped run (nothing was sent).
    task_id text,
    -- The slot the run was scheduled for; null for a manual run.
    scheduled_at timestamptz,
    sent_at timestamptz NOT NULL,
    -- sent_at minus scheduled_at, in ms.
    late_ms integer,
    -- The broker URL without its password, and the queue the message went to.
    broker text NOT NULL,
    queue text,
    manual boolean NOT NULL DEFAULT false,
    -- SENT, SKIPPED, RECEIVED, STARTED, SUCCESS, FAILURE, RETRY, REVOKED, REJECTED, LOST.
    state varchar(16) NOT NULL,
    received_at timestamptz,
    started_at timestamptz,
    finished_at timestamptz,
    -- Seconds, as the worker measured it (task-succeeded's runtime).
    runtime double precision,
    worker text,
    -- repr of the return value, truncated.
    result text,
    exception_type text,
    exception_message text,
    traceback text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX IF NOT EXISTS dbbeat_run_task_id_idx ON dbbeat_run (task_id);
CREATE INDEX IF NOT EXISTS dbbeat_run_task_sent_idx ON dbbeat_run (periodic_task_id, sent_at DESC);
-- Few indexes on purpose: every one costs the burst (tens of thousands of rows a second).
-- Pruning walks the primary key from the oldest row; open runs are found by id range.
