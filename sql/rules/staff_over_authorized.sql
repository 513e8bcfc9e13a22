-- staff_over_authorized: in-service staff above authorized posts (在职 > 编制), on the
-- staffing row that counts (the last one of the file when it repeats a unit and year).
WITH counted AS (
    SELECT t.unit_code, t.fiscal_year,
           arg_max(t.source_id, t.source_row) AS source_id,
           arg_max(t.source_file, t.source_row) AS source_file, max(t.source_row) AS source_row
    FROM staging.staffing t
    JOIN _scope s ON s.unit_code = t.unit_code AND s.fiscal_year = t.fiscal_year
    JOIN meta.slices a
      ON a.source_id = t.source_id AND a.unit_code = t.unit_code AND a.fiscal_year = t.fiscal_year AND a.status = 'active'
    WHERE t.reject_code IS NULL
    GROUP BY ALL
)
SELECT
    f.unit_code, f.fiscal_year, c.source_file, c.source_row,
    coalesce(json_extract_string(so.headers, '$.in_service'), '实有在职人数') AS field,
    f.in_service::VARCHAR AS value_provided,
    '≤ 编制数 ' || f.authorized::VARCHAR AS value_expected,
    (f.in_service - f.authorized)::DECIMAL(18, 2) AS difference,
    NULL::VARCHAR AS detail
FROM core.fact_staffing f
JOIN _scope s ON s.unit_code = f.unit_code AND s.fiscal_year = f.fiscal_year
LEFT JOIN counted c ON c.unit_code = f.unit_code AND c.fiscal_year = f.fiscal_year
LEFT JOIN meta.sources so ON so.source_id = c.source_id
WHERE f.in_service > f.authorized
