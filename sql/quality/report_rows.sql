-- The error report's lines (pipelines/quality/report.py): every quarantined row of the
-- scope's files (and of files that count for no unit-year, or could not be read) and every
-- offending row of the load's failed checks. Each problem is listed once: the quarantine
-- holds the rows an export got wrong, with the field and the cell as written (staging
-- wrote them); the rules and expectations cover what it does not (cross-file checks,
-- tie-outs, our own invariants), so no check names a quarantined row again.
-- Reads the temp tables _scope (the load's unit-years) and _report_expected (reason code ->
-- what was expected, from report.py); parameters $load_id, $fatal, $warning (the labels).
WITH scope_files AS (
    SELECT so.source_file FROM meta.slices a
    JOIN meta.sources so ON so.source_id = a.source_id
    JOIN _scope s ON s.unit_code = a.unit_code AND s.fiscal_year = a.fiscal_year
    WHERE a.status = 'active'
    UNION SELECT so.source_file FROM meta.sources so
    WHERE NOT EXISTS (SELECT 1 FROM meta.slices a WHERE a.source_id = so.source_id)
    UNION SELECT source_file FROM meta.files WHERE status = 'unreadable'
),
quarantined AS (
    SELECT
        q.source_file || coalesce(' [' || q.sheet || ']', '') AS file, q.source_row AS row_no,
        -- the header as the file wrote it (read as a MAP: any header text is a valid key)
        coalesce(json_transform(so.headers, '"MAP(VARCHAR, VARCHAR)"')[q.field], q.field) AS field,
        q.value AS provided,
        CASE WHEN q.fiscal_year IS NOT NULL THEN replace(e.expected, '当年', q.fiscal_year::VARCHAR || '年度')
             ELSE e.expected END AS expected,
        NULL::DECIMAL(18, 2) AS difference,
        'quarantine:' || q.reason_code AS rule,
        $warning AS severity,
        '已隔离，未计入：' || split_part(q.reason, ' / ', 1) AS note  -- the reason's Chinese half
    FROM quarantine q
    LEFT JOIN meta.sources so
      ON so.source_file = q.source_file AND so.sheet IS NOT DISTINCT FROM q.sheet AND so.kind = q.kind
    LEFT JOIN _report_expected e ON e.reason_code = q.reason_code
    WHERE q.source_file IN (SELECT source_file FROM scope_files)
),
checked AS (
    SELECT
        r.source_file AS file, r.source_row AS row_no, r.field, r.value_provided AS provided,
        r.value_expected AS expected, r.difference, r.check_id AS rule,
        CASE r.severity WHEN 'fatal' THEN $fatal ELSE $warning END AS severity,
        CASE WHEN r.source_file IS NULL AND r.unit_code IS NOT NULL
             THEN '单位 ' || r.unit_code || '，' || r.fiscal_year::VARCHAR || '年度：' ELSE '' END
            || r.message || coalesce('（' || r.detail || '）', '') AS note
    FROM quality.results r WHERE r.load_id = $load_id
)
SELECT DISTINCT * FROM (SELECT * FROM quarantined UNION ALL SELECT * FROM checked)
ORDER BY file NULLS LAST, row_no NULLS FIRST, rule, field, provided;
