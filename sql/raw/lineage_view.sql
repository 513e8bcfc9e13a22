-- raw.{kind}: every row of a landing table as read, with its lineage (contract section 3):
-- source_file, sheet, source_row, file_sha256, loaded_at.
-- The rows themselves are kept in raw.{kind}__rows with an integer source_key; the lineage
-- of a source is the same for all of its rows, so it is stored once, in meta.sources and
-- meta.files, and joined here. Writing it into every row would cost about a tenth of the
-- whole ingest per constant text column (bench/bench.py).
CREATE OR REPLACE VIEW raw.{kind} AS
SELECT s.source_id, s.source_file, s.sheet, r.* EXCLUDE (source_key), f.file_sha256, s.loaded_at
FROM raw.{kind}__rows r
JOIN meta.sources s USING (source_key)
JOIN meta.files f USING (file_id)
