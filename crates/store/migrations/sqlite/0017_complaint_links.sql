-- Complaints that carried no code, linked to a registered entity by name,
-- place and industry (complaints::link) at or above the threshold: one row
-- per ticket, replaced when a later detection run links it again. A
-- business's complaint history counts them beside those that carried its
-- code. Same text for both dialects.
CREATE TABLE complaint_links (
    ticket TEXT PRIMARY KEY,
    uscc TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    evidence TEXT NOT NULL,
    linked_at TEXT NOT NULL
);
CREATE INDEX complaint_links_by_uscc ON complaint_links (uscc);
