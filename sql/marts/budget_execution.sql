-- marts.budget_execution: budget against spending by unit, year, spending type and fund
-- source. final = Σ all budget kinds (追减 negative, 调剂 signed, 上年结转 included);
-- adjustment = final - initial. Budget lines are 基本 or 项目 only; spending of the other
-- types (经营支出, 上缴上级支出 …) appears in rows of its own type with no budget.
WITH budget AS (
    SELECT unit_code, fiscal_year, spending_type, fund_source,
           sum(amount) FILTER (WHERE budget_kind = '年初预算') AS initial, sum(amount) AS final
    FROM core.fact_budget GROUP BY ALL
),
spent AS (
    SELECT unit_code, fiscal_year, spending_type, fund_source, sum(amount) AS spent
    FROM core.fact_spending GROUP BY ALL
),
joined AS (
    SELECT
        coalesce(b.unit_code, x.unit_code) AS unit_code, coalesce(b.fiscal_year, x.fiscal_year) AS fiscal_year,
        coalesce(b.spending_type, x.spending_type) AS spending_type, coalesce(b.fund_source, x.fund_source) AS fund_source,
        coalesce(b.initial, 0)::DECIMAL(18, 2) AS budget_initial_yuan,
        coalesce(b.final, 0)::DECIMAL(18, 2) AS budget_final_yuan,
        coalesce(x.spent, 0)::DECIMAL(18, 2) AS spent_yuan
    FROM budget b
    FULL JOIN spent x
      ON x.unit_code = b.unit_code AND x.fiscal_year = b.fiscal_year AND x.spending_type = b.spending_type
     AND x.fund_source IS NOT DISTINCT FROM b.fund_source
)
SELECT
    j.fiscal_year, j.unit_code, u.unit_name, j.spending_type, j.fund_source,
    j.budget_initial_yuan, j.budget_final_yuan,
    (j.budget_final_yuan - j.budget_initial_yuan)::DECIMAL(18, 2) AS adjustment_yuan,
    j.spent_yuan,
    CASE WHEN j.budget_final_yuan <> 0 THEN j.spent_yuan::DOUBLE / j.budget_final_yuan::DOUBLE END AS execution_rate,
    CASE WHEN j.budget_initial_yuan <> 0
         THEN (j.budget_final_yuan - j.budget_initial_yuan)::DOUBLE / j.budget_initial_yuan::DOUBLE END AS adjustment_rate,
    NULLIF(concat_ws('；',
        CASE WHEN j.budget_final_yuan = 0 THEN '全年预算数为0，不计算执行率 / no final budget' END,
        CASE WHEN j.budget_initial_yuan = 0 THEN '年初预算数为0，不计算调整率 / no initial budget' END), '') AS reason
FROM joined j
JOIN _scope s ON s.unit_code = j.unit_code AND s.fiscal_year = j.fiscal_year
JOIN core.dim_unit_year u ON u.unit_code = j.unit_code AND u.fiscal_year = j.fiscal_year
