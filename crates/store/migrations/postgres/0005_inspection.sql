-- Double random, one public: the inspector roster, declared relationships,
-- who inspected whom, open cases, plans, tasks, findings and the holiday
-- calendar. Same text for both dialects: ids are assigned by the store.

-- 执法检查人员名录库. `account` links a user who signs in as this inspector.
CREATE TABLE inspectors (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    certificate TEXT NOT NULL,
    department TEXT NOT NULL,
    -- fields of competence, ';' between them
    competences TEXT NOT NULL,
    available BIGINT NOT NULL,
    account TEXT,
    updated_at TEXT NOT NULL
);

CREATE TABLE inspector_relationships (
    inspector TEXT NOT NULL,
    subject TEXT NOT NULL,
    relationship TEXT NOT NULL,
    declared_at TEXT NOT NULL,
    PRIMARY KEY (inspector, subject, relationship)
);

-- Who took part in which inspection, for the recusal window: imported from
-- the departments' history and written when a task's result is recorded.
CREATE TABLE inspector_visits (
    inspector TEXT NOT NULL,
    subject TEXT NOT NULL,
    inspected_on TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (inspector, subject, inspected_on)
);
CREATE INDEX inspector_visits_subject ON inspector_visits (subject);

-- Entities under an open case (立案未结), which plans may exclude.
CREATE TABLE open_cases (
    subject TEXT PRIMARY KEY,
    opened_on TEXT NOT NULL,
    note TEXT NOT NULL
);

-- state: draft → committed (snapshots and seed hash published) → drawn
-- (seed revealed, tasks created). The seed stays secret until drawn.
CREATE TABLE inspection_plans (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    state TEXT NOT NULL,
    window_start TEXT NOT NULL,
    window_end TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    committed_at TEXT,
    commitment_sha256 TEXT,
    seed_sha256 TEXT,
    seed TEXT,
    drawn_at TEXT,
    draw_summary TEXT
);

-- One drawn object of a plan. visit_id groups tasks of several plans that
-- are done in one joint visit (the id of the visit's first task).
CREATE TABLE inspection_tasks (
    id BIGINT PRIMARY KEY,
    plan_id TEXT NOT NULL REFERENCES inspection_plans (id),
    rank BIGINT NOT NULL,
    subject TEXT NOT NULL,
    class TEXT,
    object_key TEXT NOT NULL,
    inspectors TEXT NOT NULL,
    unstaffed TEXT,
    visit_id BIGINT,
    window_start TEXT NOT NULL,
    window_end TEXT NOT NULL,
    -- assigned | done | unstaffed
    state TEXT NOT NULL,
    inspected_on TEXT,
    result TEXT,
    recorded_at TEXT,
    recorded_by TEXT,
    published_on TEXT,
    UNIQUE (plan_id, subject)
);
CREATE INDEX inspection_tasks_subject ON inspection_tasks (subject);

CREATE TABLE task_inspectors (
    task_id BIGINT NOT NULL REFERENCES inspection_tasks (id),
    inspector TEXT NOT NULL,
    PRIMARY KEY (task_id, inspector)
);
CREATE INDEX task_inspectors_inspector ON task_inspectors (inspector);

-- Per task and item: no_problem | problem_found | not_found | closed.
CREATE TABLE inspection_findings (
    task_id BIGINT NOT NULL REFERENCES inspection_tasks (id),
    item TEXT NOT NULL,
    outcome TEXT NOT NULL,
    problem_type TEXT NOT NULL,
    description TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (task_id, item)
);

-- kind: holiday | working_weekend (调休)
CREATE TABLE holidays (
    day TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    note TEXT NOT NULL
);
