-- Background jobs' progress: the marker each last ran up to (for
-- detection, the latest complaint batch it saw) and when it finished, so
-- that a restarted server does not redo what is done. Same text for both
-- dialects.
CREATE TABLE job_runs (
    name TEXT PRIMARY KEY,
    marker BIGINT NOT NULL,
    finished_at TEXT NOT NULL
);
