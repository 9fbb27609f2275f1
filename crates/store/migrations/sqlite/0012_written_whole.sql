-- A change and its audit entry are written together or not at all. The
-- change's transaction adds the entry here; the audit appender moves it
-- into the hash chain (and deletes it here) in its next transaction, which
-- the store asks for as soon as the change commits. A process killed in
-- between leaves the entry here, and the next append chains it: no change
-- without its entry, and the chain is still written by one appender only.
CREATE TABLE audit_pending (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);

-- An inspection result is recorded in the store first, then sent into the
-- lake as an inspection_result record; the batch that carried it is noted
-- here. A done task without one (a process killed between the two) is sent
-- again, the same bytes, when the server or the next result starts. Tasks
-- done before this column were sent with their result: 0.
ALTER TABLE inspection_tasks ADD COLUMN lake_batch BIGINT;
UPDATE inspection_tasks SET lake_batch = 0 WHERE state = 'done';
