-- Natural keys of stored records moved beside the lake (lake/_keys), written
-- and published with the batch's Parquet files: an indexed table of one row
-- per record was the slowest part of ingest.
DROP TABLE record_keys;
