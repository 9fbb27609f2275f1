-- What would improve each enterprise's financing grade (risk::improve), as
-- JSON, computed by the grading that scored it; NULL for rows graded before
-- this column, until the next grading.
ALTER TABLE financing_scores ADD COLUMN outlook TEXT;
