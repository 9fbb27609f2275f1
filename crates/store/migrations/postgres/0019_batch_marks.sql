-- Change markers of batches: a number per mark ('all', 'registry' and
-- 'item:<item id>'), advanced by an UPDATE inside each batch's own
-- transaction just before it commits. The row lock orders the writers, so
-- a reader that sees a mark has seen every batch counted in it. The
-- highest batch id is no such marker: an id is taken when the batch
-- starts, not when it commits. Seeded from the batches stored so far, so
-- markers kept by background jobs (job_runs) keep their meaning. Same
-- text for both dialects.
CREATE TABLE batch_marks (
    name TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);
INSERT INTO batch_marks (name, seq) SELECT 'all', COALESCE(MAX(id), 0) FROM batches;
INSERT INTO batch_marks (name, seq)
    SELECT 'registry', COALESCE(MAX(b.id), 0) FROM batches b
    JOIN catalog_items c ON c.id = b.item WHERE c.record = 'registry';
INSERT INTO batch_marks (name, seq) SELECT 'item:' || item, MAX(id) FROM batches GROUP BY item;
