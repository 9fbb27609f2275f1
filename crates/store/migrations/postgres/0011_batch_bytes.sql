-- A batch's content is known by its SHA-256 and its length. A file whose
-- length matches no earlier batch of its department and item is new, and is
-- read once, hashed while its rows are read; only a file of a length seen
-- before is hashed first, to skip content ingested already.
ALTER TABLE batches ADD COLUMN content_bytes BIGINT;
CREATE INDEX batches_length ON batches (department, item, content_bytes);
