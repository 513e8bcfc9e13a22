-- tieout_project_total: per unit and year, Σ spending_by_project.spent_yuan (as built) =
-- the project spending of core.fact_spending — so Σ projects + basic + other types = total —
-- and Σ budget_initial_yuan / budget_final_yuan = the project lines of core.fact_budget.
WITH facts AS (
    SELECT f.unit_code, f.fiscal_year, sum(f.amount) AS spent
    FROM core.fact_spending f JOIN _scope s ON s.unit_code = f.unit_code AND s.fiscal_year = f.fiscal_year
    WHERE f.spending_type = '项目支出'
    GROUP BY ALL
),
budget AS (
    SELECT b.unit_code, b.fiscal_year, sum(b.amount) FILTER (WHERE b.budget_kind = '年初预算') AS initial,
           sum(b.amount) AS final
    FROM core.fact_budget b JOIN _scope s ON s.unit_code = b.unit_code AND s.fiscal_year = b.fiscal_year
    WHERE b.project_code IS NOT NULL
    GROUP BY ALL
),
mart AS (
    SELECT m.unit_code, m.fiscal_year, sum(m.spent_yuan) AS spent, sum(m.budget_initial_yuan) AS initial,
           sum(m.budget_final_yuan) AS final
    FROM build.spending_by_project m JOIN _scope s ON s.unit_code = m.unit_code AND s.fiscal_year = m.fiscal_year
    GROUP BY ALL
),
compared AS (
    SELECT s.unit_code, s.fiscal_year, t.*
    FROM _scope s
    LEFT JOIN facts f ON f.unit_code = s.unit_code AND f.fiscal_year = s.fiscal_year
    LEFT JOIN budget b ON b.unit_code = s.unit_code AND b.fiscal_year = s.fiscal_year
    LEFT JOIN mart m ON m.unit_code = s.unit_code AND m.fiscal_year = s.fiscal_year,
    (VALUES
        ('spending_by_project.spent_yuan 合计', coalesce(m.spent, 0)::DECIMAL(18, 2), coalesce(f.spent, 0)::DECIMAL(18, 2)),
        ('spending_by_project.budget_initial_yuan 合计', coalesce(m.initial, 0)::DECIMAL(18, 2), coalesce(b.initial, 0)::DECIMAL(18, 2)),
        ('spending_by_project.budget_final_yuan 合计', coalesce(m.final, 0)::DECIMAL(18, 2), coalesce(b.final, 0)::DECIMAL(18, 2))
    ) t(field, provided, expected)
)
SELECT unit_code, fiscal_year, NULL::VARCHAR AS source_file, NULL::BIGINT AS source_row, field,
       provided::VARCHAR AS value_provided, expected::VARCHAR AS value_expected,
       (provided - expected)::DECIMAL(18, 2) AS difference, '期望值 = core 事实表（项目部分）' AS detail
FROM compared WHERE provided <> expected
