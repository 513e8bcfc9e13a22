-- ledger_project_without_budget: budget tie-out, ledger -> budget. Projects of the
-- year's ledger whose final budget (Σ all budget kinds) is zero or less, or that have no
-- budget line at all. One row per project, on its ledger row.
WITH ledger AS (
    SELECT p.unit_code, p.fiscal_year, p.project_code, p.project_name
    FROM core.dim_project p
    JOIN _scope s ON s.unit_code = p.unit_code AND s.fiscal_year = p.fiscal_year
    WHERE p.in_ledger
),
budget AS (
    SELECT b.unit_code, b.fiscal_year, b.project_code, sum(b.amount) AS final
    FROM core.fact_budget b JOIN ledger l USING (unit_code, fiscal_year, project_code)
    GROUP BY ALL
),
ledger_rows AS (
    SELECT r.unit_code, r.fiscal_year, r.project_code,
           first(r.source_file ORDER BY r.source_file, r.source_row) AS source_file,
           first(r.source_row ORDER BY r.source_file, r.source_row) AS source_row
    FROM staging.ledger_projects r
    JOIN meta.slices a
      ON a.source_id = r.source_id AND a.unit_code = r.unit_code AND a.fiscal_year = r.fiscal_year AND a.status = 'active'
    JOIN ledger l ON l.unit_code = r.unit_code AND l.fiscal_year = r.fiscal_year AND l.project_code = r.project_code
    WHERE r.reject_code IS NULL
    GROUP BY ALL
)
SELECT
    l.unit_code, l.fiscal_year, r.source_file, r.source_row,
    '全年预算数' AS field,
    coalesce(b.final, 0)::DECIMAL(18, 2)::VARCHAR AS value_provided,
    '> 0（预算指标中有该项目）' AS value_expected,
    coalesce(b.final, 0)::DECIMAL(18, 2) AS difference,
    '项目 ' || l.project_code || coalesce(' ' || l.project_name, '') AS detail
FROM ledger l
LEFT JOIN budget b USING (unit_code, fiscal_year, project_code)
LEFT JOIN ledger_rows r USING (unit_code, fiscal_year, project_code)
WHERE coalesce(b.final, 0) <= 0
