-- Operational store, SQLite dialect. Keep in step with ../postgres/.

CREATE TABLE departments (
    id TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL
);

-- The catalog in use: one row, the TOML text it was loaded from.
CREATE TABLE catalog (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version TEXT NOT NULL,
    source TEXT NOT NULL,
    loaded_at TEXT NOT NULL
);

CREATE TABLE catalog_items (
    id TEXT PRIMARY KEY,
    department TEXT NOT NULL REFERENCES departments (id),
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    category TEXT NOT NULL,
    record TEXT NOT NULL,
    publicity TEXT NOT NULL
);

CREATE TABLE batches (
    id INTEGER PRIMARY KEY,
    department TEXT NOT NULL,
    item TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    rows_in BIGINT NOT NULL,
    accepted BIGINT NOT NULL,
    quarantined BIGINT NOT NULL,
    report TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL
);
-- Idempotency: the same content from the same source is one batch.
CREATE UNIQUE INDEX batches_content ON batches (department, item, content_sha256);

-- The registry: one row per market entity, kept current from registration
-- and change records.
CREATE TABLE entities (
    uscc TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    legal_representative TEXT NOT NULL,
    registered_capital DOUBLE PRECISION,
    established_on TEXT NOT NULL,
    industry TEXT NOT NULL,
    division TEXT NOT NULL,
    address TEXT NOT NULL,
    status TEXT NOT NULL,
    registration_number TEXT,
    batch_id BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX entities_name ON entities (name);

-- Legacy identifiers (registration numbers, organisation codes) → USCC.
CREATE TABLE legacy_ids (
    legacy_id TEXT PRIMARY KEY,
    uscc TEXT NOT NULL,
    kind TEXT NOT NULL
);
CREATE INDEX legacy_ids_uscc ON legacy_ids (uscc);

-- Natural keys of stored records, for duplicate detection across batches.
CREATE TABLE record_keys (
    item TEXT NOT NULL,
    key_hash BIGINT NOT NULL,
    content_hash BIGINT NOT NULL,
    batch_id BIGINT NOT NULL,
    PRIMARY KEY (item, key_hash)
);

-- Per entity, item and year: what profiles and models read.
CREATE TABLE summaries (
    uscc TEXT NOT NULL,
    item TEXT NOT NULL,
    year BIGINT NOT NULL,
    records BIGINT NOT NULL,
    amount DOUBLE PRECISION NOT NULL,
    flagged BIGINT NOT NULL,
    latest TEXT NOT NULL,
    PRIMARY KEY (uscc, item, year)
);

-- Event records that profiles show one by one.
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    uscc TEXT NOT NULL,
    item TEXT NOT NULL,
    event_date TEXT NOT NULL,
    title TEXT NOT NULL,
    detail TEXT NOT NULL,
    department TEXT NOT NULL,
    batch_id BIGINT NOT NULL,
    source_row BIGINT NOT NULL,
    publicity_until TEXT
);
CREATE INDEX events_subject ON events (uscc, event_date);
