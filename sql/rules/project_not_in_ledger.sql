-- project_not_in_ledger: projects that the year's spending lines name but the year's
-- project ledger lacks. One row per project, on its first spending line;
-- difference = the project's spending that year.
WITH missing AS (
    SELECT p.unit_code, p.fiscal_year, p.project_code
    FROM core.dim_project p
    JOIN _scope s ON s.unit_code = p.unit_code AND s.fiscal_year = p.fiscal_year
    WHERE NOT p.in_ledger
)
SELECT
    m.unit_code, m.fiscal_year,
    first(f.source_file ORDER BY f.source_file, f.source_row) AS source_file,
    first(f.source_row ORDER BY f.source_file, f.source_row) AS source_row,
    '项目编码' AS field,
    m.project_code AS value_provided,
    m.fiscal_year::VARCHAR || '年项目台账（项目表）中的项目编码' AS value_expected,
    sum(f.amount)::DECIMAL(18, 2) AS difference,
    count(*)::VARCHAR || ' 行支出' AS detail
FROM missing m
JOIN core.fact_spending f
  ON f.unit_code = m.unit_code AND f.fiscal_year = m.fiscal_year AND f.project_code = m.project_code
GROUP BY m.unit_code, m.fiscal_year, m.project_code
