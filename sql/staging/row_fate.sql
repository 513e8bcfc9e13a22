-- staging.{kind}__fate: the rows of staging.{kind}__rows, each with what became of it — the
-- one definition of a row's fate, read by the load's row accounting
-- (pipelines.warehouse.load.row_accounting), the quarantine (pipelines.warehouse.quarantine)
-- and the rule row_accounting, so that rows read = loaded + quarantined + superseded is the
-- same sum in all three (contract 2: a row that cannot be read is never dropped silently;
-- contract 1: a newer file of the same identity replaces an older one's rows):
--   loaded       passed its checks, in a slice that counts (meta.slices.status 'active');
--   quarantined  rejected, in a slice that counts; or rejected in no slice (no unit or year,
--                an unreadable or out-of-range date) while its file still counts (one of its
--                slices is active, or it has none);
--   superseded   in a slice a newer file replaces; or rejected in no slice of a file whose
--                slices are all replaced (it goes with its file);
--   unassigned   passed its checks but lies in no slice: never expected; it is neither loaded
--                nor quarantined, so the rule row_accounting reports it as a gap.
CREATE OR REPLACE VIEW staging.{kind}__fate AS
WITH files AS (
    SELECT so.source_key, so.source_id, bool_or(sl.status = 'active') IS NOT FALSE AS counts
    FROM meta.sources so
    LEFT JOIN meta.slices sl USING (source_id)
    WHERE so.kind = '{kind}'
    GROUP BY ALL
)
SELECT
    f.source_id, s.*,
    CASE
        WHEN sl.status = 'replaced' THEN 'superseded'
        WHEN s.reject_code IS NULL THEN CASE WHEN sl.status = 'active' THEN 'loaded' ELSE 'unassigned' END
        WHEN sl.status = 'active' OR f.counts THEN 'quarantined'
        ELSE 'superseded'
    END AS fate
FROM staging.{kind}__rows s
JOIN files f USING (source_key)
LEFT JOIN meta.slices sl
  ON sl.source_id = f.source_id AND sl.unit_code = s.unit_code AND sl.fiscal_year = s.fiscal_year
