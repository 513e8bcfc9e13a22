-- marts.spending_by_project: every project of the ledger, the budget or the vouchers in a
-- unit and year; 0.00 where nothing; execution_rate = spent / final budget. spent is the
-- project's 项目支出 (7101/7201 lines with its code): a 经营支出 or 上缴上级支出 line that
-- names a project keeps its own type and is not the project's spending (contract 2.1).
WITH budget AS (
    SELECT unit_code, fiscal_year, project_code,
           sum(amount) FILTER (WHERE budget_kind = '年初预算') AS initial,
           sum(amount) AS final
    FROM core.fact_budget WHERE project_code IS NOT NULL GROUP BY ALL
),
spent AS (
    SELECT unit_code, fiscal_year, project_code, sum(amount) AS spent
    FROM core.fact_spending WHERE spending_type = '项目支出' GROUP BY ALL
),
amounts AS (
    SELECT p.*, u.unit_name,
           coalesce(b.initial, 0)::DECIMAL(18, 2) AS budget_initial_yuan,
           coalesce(b.final, 0)::DECIMAL(18, 2) AS budget_final_yuan,
           coalesce(x.spent, 0)::DECIMAL(18, 2) AS spent_yuan
    FROM core.dim_project p
    JOIN _scope s ON s.unit_code = p.unit_code AND s.fiscal_year = p.fiscal_year
    JOIN core.dim_unit_year u ON u.unit_code = p.unit_code AND u.fiscal_year = p.fiscal_year
    LEFT JOIN budget b ON b.unit_code = p.unit_code AND b.fiscal_year = p.fiscal_year AND b.project_code = p.project_code
    LEFT JOIN spent x ON x.unit_code = p.unit_code AND x.fiscal_year = p.fiscal_year AND x.project_code = p.project_code
)
SELECT
    fiscal_year, unit_code, unit_name, project_code, project_name, category, office, is_key, disclosure,
    budget_initial_yuan, budget_final_yuan, spent_yuan,
    CASE WHEN budget_final_yuan <> 0 THEN spent_yuan::DOUBLE / budget_final_yuan::DOUBLE END AS execution_rate,
    CASE WHEN budget_final_yuan = 0 THEN '全年预算数为0，不计算执行率 / no final budget' END AS reason
FROM amounts
