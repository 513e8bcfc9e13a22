-- core.dim_unit_year: every unit and fiscal year any counting file speaks of, with the
-- unit's name as that year's files most often write it (else as other years' do).
WITH names AS (
    SELECT unit_code, fiscal_year, unit_name FROM staging.voucher_lines WHERE reject_code IS NULL AND unit_name IS NOT NULL
    UNION ALL SELECT unit_code, fiscal_year, unit_name FROM staging.budget_lines WHERE reject_code IS NULL AND unit_name IS NOT NULL
    UNION ALL SELECT unit_code, fiscal_year, unit_name FROM staging.ledger_projects WHERE reject_code IS NULL AND unit_name IS NOT NULL
    UNION ALL SELECT unit_code, fiscal_year, unit_name FROM staging.ledger_indicators WHERE reject_code IS NULL AND unit_name IS NOT NULL
    UNION ALL SELECT unit_code, fiscal_year, unit_name FROM staging.staffing WHERE reject_code IS NULL AND unit_name IS NOT NULL
    UNION ALL SELECT unit_code, fiscal_year, unit_name FROM staging.procurement WHERE reject_code IS NULL AND unit_name IS NOT NULL
),
counted AS (
    SELECT unit_code, fiscal_year, unit_name, count(*) AS n
    FROM names WHERE unit_code IN (SELECT unit_code FROM _scope) GROUP BY ALL
),
by_year AS (
    SELECT unit_code, fiscal_year, first(unit_name ORDER BY n DESC, unit_name) AS unit_name FROM counted GROUP BY ALL
),
by_unit AS (
    SELECT unit_code, first(unit_name ORDER BY n DESC, unit_name) AS unit_name
    FROM (SELECT unit_code, unit_name, sum(n) AS n FROM counted GROUP BY ALL) GROUP BY ALL
)
SELECT DISTINCT a.unit_code, a.fiscal_year, coalesce(y.unit_name, u.unit_name) AS unit_name
FROM meta.slices a
JOIN _scope s ON s.unit_code = a.unit_code AND s.fiscal_year = a.fiscal_year
LEFT JOIN by_year y ON y.unit_code = a.unit_code AND y.fiscal_year = a.fiscal_year
LEFT JOIN by_unit u ON u.unit_code = a.unit_code
WHERE a.status = 'active'
