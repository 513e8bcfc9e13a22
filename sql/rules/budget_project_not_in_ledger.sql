-- budget_project_not_in_ledger: budget tie-out, budget -> ledger. The project ledger has
-- no budget column (contract 2.3), so what ties out is the list of projects: every
-- project with budget lines in a year must be in that year's ledger. One row per
-- project, on its first budget line; value_provided = the project's final budget.
WITH budget AS (
    SELECT b.unit_code, b.fiscal_year, b.project_code, sum(b.amount) AS final,
           first(b.source_file ORDER BY b.source_file, b.source_row) AS source_file,
           first(b.source_row ORDER BY b.source_file, b.source_row) AS source_row,
           count(*) AS lines
    FROM core.fact_budget b
    JOIN _scope s ON s.unit_code = b.unit_code AND s.fiscal_year = b.fiscal_year
    WHERE b.project_code IS NOT NULL
    GROUP BY ALL
)
SELECT
    b.unit_code, b.fiscal_year, b.source_file, b.source_row,
    '项目编码' AS field,
    b.project_code AS value_provided,
    b.fiscal_year::VARCHAR || '年项目台账（项目表）中的项目编码' AS value_expected,
    b.final::DECIMAL(18, 2) AS difference,
    b.lines::VARCHAR || ' 行预算指标，全年预算数 ' || b.final::DECIMAL(18, 2)::VARCHAR AS detail
FROM budget b
JOIN core.dim_project p ON p.unit_code = b.unit_code AND p.fiscal_year = b.fiscal_year AND p.project_code = b.project_code
WHERE NOT p.in_ledger
