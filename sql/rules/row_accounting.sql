-- row_accounting: per counting source (a CSV file, or one sheet of a workbook) of the
-- scope, the data rows the reader counted when it read the file (meta.sources: rows_raw
-- minus footer and repeated header rows) must equal the rows staged without a reject
-- code plus the rows in quarantine. A gap means rows were lost or duplicated on the way
-- and nothing else would notice: fatal, the unit-years the source feeds are withheld.
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
staged AS (
    SELECT source_id, count(*) FILTER (WHERE reject_code IS NULL) AS accepted
    FROM (
        SELECT source_id, reject_code FROM staging.voucher_lines WHERE source_id IN (SELECT source_id FROM sources)
        UNION ALL SELECT source_id, reject_code FROM staging.budget_lines WHERE source_id IN (SELECT source_id FROM sources)
        UNION ALL SELECT source_id, reject_code FROM staging.ledger_projects WHERE source_id IN (SELECT source_id FROM sources)
        UNION ALL SELECT source_id, reject_code FROM staging.ledger_indicators WHERE source_id IN (SELECT source_id FROM sources)
        UNION ALL SELECT source_id, reject_code FROM staging.staffing WHERE source_id IN (SELECT source_id FROM sources)
        UNION ALL SELECT source_id, reject_code FROM staging.procurement WHERE source_id IN (SELECT source_id FROM sources)
    )
    GROUP BY source_id
),
quarantined AS (
    SELECT q.source_file, q.sheet, count(*) AS rows_quarantined
    FROM quarantine q
    WHERE q.source_row IS NOT NULL AND q.source_file IN (SELECT source_file FROM sources)
    GROUP BY ALL
),
accounted AS (
    SELECT so.*, coalesce(st.accepted, 0) AS accepted, coalesce(q.rows_quarantined, 0) AS rows_quarantined
    FROM sources so
    LEFT JOIN staged st ON st.source_id = so.source_id
    LEFT JOIN quarantined q ON q.source_file = so.source_file AND q.sheet IS NOT DISTINCT FROM so.sheet
)
SELECT
    s.unit_code, s.fiscal_year, x.source_file, NULL::BIGINT AS source_row,
    '数据行数' || coalesce('（' || x.sheet || '）', '') AS field,
    x.rows_read::VARCHAR AS value_provided,
    (x.accepted + x.rows_quarantined)::VARCHAR AS value_expected,
    (x.rows_read - x.accepted - x.rows_quarantined)::DECIMAL(18, 2) AS difference,
    x.kind || '：读取 ' || x.rows_read::VARCHAR || ' 行 ≠ 入库 ' || x.accepted::VARCHAR
        || ' 行 + 隔离 ' || x.rows_quarantined::VARCHAR || ' 行' AS detail
FROM accounted x
JOIN scoped s ON s.source_id = x.source_id
WHERE x.rows_read <> x.accepted + x.rows_quarantined
