-- unit_over_budget: a unit's spending in a year above its final budget (Σ all budget
-- kinds). From the marts as built (schema build): spending_by_year and budget_execution.
-- Spending is total spending (支出合计, total_yuan: every 7xxx line, the other types of
-- contract 2.1 included), the spending that 预算完成率 measures against the same budget.
WITH spent AS (
    SELECT y.unit_code, y.fiscal_year, y.total_yuan AS spent
    FROM build.spending_by_year y JOIN _scope s ON s.unit_code = y.unit_code AND s.fiscal_year = y.fiscal_year
),
budget AS (
    SELECT e.unit_code, e.fiscal_year, sum(e.budget_final_yuan) AS final
    FROM build.budget_execution e JOIN _scope s ON s.unit_code = e.unit_code AND s.fiscal_year = e.fiscal_year
    GROUP BY ALL
)
SELECT
    x.unit_code, x.fiscal_year, NULL::VARCHAR AS source_file, NULL::BIGINT AS source_row,
    '全年执行数' AS field,
    x.spent::DECIMAL(18, 2)::VARCHAR AS value_provided,
    '≤ 全年预算数 ' || coalesce(b.final, 0)::DECIMAL(18, 2)::VARCHAR AS value_expected,
    (x.spent - coalesce(b.final, 0))::DECIMAL(18, 2) AS difference,
    NULL::VARCHAR AS detail
FROM spent x
LEFT JOIN budget b USING (unit_code, fiscal_year)
WHERE x.spent > coalesce(b.final, 0)
