-- procurement_over_budget: government procurement contracts above the procurement budget
-- (政府采购预算 of the budget lines, all kinds), per unit, year and project; contracts
-- without a project are compared with the basic budget's procurement amount. One row
-- per project on its first contract; difference = the excess.
WITH contracts AS (
    SELECT c.unit_code, c.fiscal_year, c.project_code, sum(c.contract_amount) AS contracted, count(*) AS n,
           first(c.source_file ORDER BY c.source_file, c.source_row) AS source_file,
           first(c.source_row ORDER BY c.source_file, c.source_row) AS source_row
    FROM core.fact_procurement c
    JOIN _scope s ON s.unit_code = c.unit_code AND s.fiscal_year = c.fiscal_year
    GROUP BY ALL
),
budget AS (
    SELECT b.unit_code, b.fiscal_year, b.project_code, sum(b.procurement_amount) AS planned
    FROM core.fact_budget b
    JOIN _scope s ON s.unit_code = b.unit_code AND s.fiscal_year = b.fiscal_year
    GROUP BY ALL
)
SELECT
    c.unit_code, c.fiscal_year, c.source_file, c.source_row,
    '合同金额' AS field,
    c.contracted::DECIMAL(18, 2)::VARCHAR AS value_provided,
    '≤ 政府采购预算 ' || coalesce(b.planned, 0)::DECIMAL(18, 2)::VARCHAR AS value_expected,
    (c.contracted - coalesce(b.planned, 0))::DECIMAL(18, 2) AS difference,
    coalesce('项目 ' || c.project_code, '基本支出（无项目编码）') || '，' || c.n::VARCHAR || ' 份合同' AS detail
FROM contracts c
LEFT JOIN budget b
  ON b.unit_code = c.unit_code AND b.fiscal_year = c.fiscal_year AND b.project_code IS NOT DISTINCT FROM c.project_code
WHERE c.contracted > coalesce(b.planned, 0)
