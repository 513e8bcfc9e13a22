-- staging.{kind}: the typed rows of staging.{kind}__rows (built by sql/staging/{kind}.sql)
-- with the source they come from, by name (see sql/raw/lineage_view.sql for why the rows
-- carry an integer source_key only).
CREATE OR REPLACE VIEW staging.{kind} AS
SELECT s.source_id, s.source_file, s.sheet, t.* EXCLUDE (source_key)
FROM staging.{kind}__rows t
JOIN meta.sources s USING (source_key)
