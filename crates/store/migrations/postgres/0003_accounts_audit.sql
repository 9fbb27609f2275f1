-- People and machines that use the platform, and the audit log.
-- Same text for both dialects: ids are assigned explicitly by the store.

CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    -- Argon2id in PHC string form.
    password_hash TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until TEXT,
    password_changed_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- A role, bound to a subject where the role needs one: a department's id,
-- a bank's id, an enterprise's USCC; empty otherwise.
CREATE TABLE user_roles (
    user_id BIGINT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL,
    subject TEXT NOT NULL,
    PRIMARY KEY (user_id, role, subject)
);

-- Cookie sessions, by the SHA-256 of the cookie's secret: a copy of the
-- database does not let anyone sign in.
CREATE TABLE sessions (
    id_sha256 TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- API tokens for machine clients, by the SHA-256 of the secret.
CREATE TABLE api_tokens (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    subject TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);

-- Append-only, hash-chained: hash = sha256(prev_hash || canonical entry).
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_actor ON audit_log (actor, seq);
CREATE INDEX audit_subject ON audit_log (subject, seq);
