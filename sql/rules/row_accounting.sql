-- row_accounting: per counting source (a CSV file, or one sheet of a workbook) of the
-- scope, the data rows the reader counted when it read the file (meta.sources: rows_raw
-- minus footer and repeated header rows) must equal the rows loaded plus the rows in
-- quarantine plus the rows superseded by a newer file of the same identity — the sum the
-- load's summary prints, over the same definition of a row's fate (staging.<kind>__fate,
-- sql/staging/row_fate.sql). A multi-unit file whose slice of one unit a newer export
-- replaces still feeds the other units: its replaced rows, accepted or rejected, are
-- superseded, so the sum holds whichever unit-years a load checks. A gap means rows were
-- lost or duplicated on the way and nothing else would notice: fatal, the unit-years the
-- source feeds are withheld.
WITH scoped AS (
    SELECT DISTINCT a.source_id, a.unit_code, a.fiscal_year
    FROM meta.slices a
    JOIN _scope s ON s.unit_code = a.unit_code AND s.fiscal_year = a.fiscal_year
    WHERE a.status = 'active'
),
sources AS (
    SELECT so.source_id, so.source_file, so.sheet, so.kind, so.rows_raw - so.rows_footer AS rows_read
    FROM meta.sources so
    WHERE so.source_id IN (SELECT source_id FROM scoped)
),
fates AS (  -- each staged row's fate: the one definition (sql/staging/row_fate.sql)
    SELECT source_id, fate FROM staging.voucher_lines__fate WHERE source_id IN (SELECT source_id FROM sources)
    UNION ALL SELECT source_id, fate FROM staging.budget_lines__fate WHERE source_id IN (SELECT source_id FROM sources)
    UNION ALL SELECT source_id, fate FROM staging.ledger_projects__fate WHERE source_id IN (SELECT source_id FROM sources)
    UNION ALL SELECT source_id, fate FROM staging.ledger_indicators__fate WHERE source_id IN (SELECT source_id FROM sources)
    UNION ALL SELECT source_id, fate FROM staging.staffing__fate WHERE source_id IN (SELECT source_id FROM sources)
    UNION ALL SELECT source_id, fate FROM staging.procurement__fate WHERE source_id IN (SELECT source_id FROM sources)
),
staged AS (
    SELECT source_id, count(*) FILTER (WHERE fate = 'loaded') AS accepted,
           count(*) FILTER (WHERE fate = 'superseded') AS superseded
    FROM fates
    GROUP BY source_id
),
quarantined AS (
    SELECT q.source_file, q.sheet, count(*) AS rows_quarantined
    FROM quarantine q
    WHERE q.source_row IS NOT NULL AND q.source_file IN (SELECT source_file FROM sources)
    GROUP BY ALL
),
accounted AS (
    SELECT so.*, coalesce(st.accepted, 0) AS accepted, coalesce(q.rows_quarantined, 0) AS rows_quarantined,
           coalesce(st.superseded, 0) AS superseded
    FROM sources so
    LEFT JOIN staged st ON st.source_id = so.source_id
    LEFT JOIN quarantined q ON q.source_file = so.source_file AND q.sheet IS NOT DISTINCT FROM so.sheet
)
SELECT
    s.unit_code, s.fiscal_year, x.source_file, NULL::BIGINT AS source_row,
    '数据行数' || coalesce('（' || x.sheet || '）', '') AS field,
    x.rows_read::VARCHAR AS value_provided,
    (x.accepted + x.rows_quarantined + x.superseded)::VARCHAR AS value_expected,
    (x.rows_read - x.accepted - x.rows_quarantined - x.superseded)::DECIMAL(18, 2) AS difference,
    x.kind || '：读取 ' || x.rows_read::VARCHAR || ' 行 ≠ 入库 ' || x.accepted::VARCHAR
        || ' 行 + 隔离 ' || x.rows_quarantined::VARCHAR || ' 行'
        || CASE WHEN x.superseded > 0 THEN ' + 被新文件替代 ' || x.superseded::VARCHAR || ' 行' ELSE '' END AS detail
FROM accounted x
JOIN scoped s ON s.source_id = x.source_id
WHERE x.rows_read <> x.accepted + x.rows_quarantined + x.superseded
