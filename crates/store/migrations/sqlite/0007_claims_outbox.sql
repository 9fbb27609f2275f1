-- Identity before access (DESIGN.md invariant 7): a registration is a claim
-- until proven by a one-time code sent to the contact the enterprise gave
-- the market regulator; a further account for an enterprise that has one
-- also needs its administrator's approval. Messages leave through the
-- outbox. Ids come from the database (the two dialects differ only there).

CREATE TABLE enterprise_claims (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uscc TEXT NOT NULL,
    applicant_name TEXT NOT NULL,
    capacity TEXT NOT NULL,
    -- SHA-256 of the one-time code; the code itself is only in the message.
    code_sha256 TEXT NOT NULL,
    code_expires_at TEXT NOT NULL,
    -- Confirmations tried, counted before the code is compared.
    attempts BIGINT NOT NULL DEFAULT 0,
    -- awaiting_code, awaiting_approval, approved, refused, failed
    state TEXT NOT NULL,
    -- Chosen when the code is confirmed.
    username TEXT,
    password_hash TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    decided_by TEXT,
    user_id BIGINT
);
CREATE INDEX enterprise_claims_uscc ON enterprise_claims (uscc, state);

-- Messages to people: one-time codes to a registered contact (sms, email),
-- notices to accounts (account). A notifier delivers them and sets sent_at.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    error TEXT
);
CREATE INDEX outbox_recipient ON outbox (recipient, id);
