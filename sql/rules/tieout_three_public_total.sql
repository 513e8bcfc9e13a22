-- tieout_three_public_total: per unit and year, Σ three_public (as built) spent_yuan and
-- budget_yuan = the 三公 items (30212, 30217, 31013/30913, 30231) paid from fiscal
-- appropriations in core.fact_spending / core.fact_budget (and so = spending_by_year's
-- three_public_yuan, tied by tieout_year_total).
WITH facts AS (
    SELECT f.unit_code, f.fiscal_year, sum(f.amount) AS spent
    FROM core.fact_spending f JOIN _scope s ON s.unit_code = f.unit_code AND s.fiscal_year = f.fiscal_year
    WHERE fw_counts_as_three_public(f.econ_code, f.fund_source, f.spending_type)
    GROUP BY ALL
),
budget AS (
    SELECT b.unit_code, b.fiscal_year, sum(b.amount) AS budget
    FROM core.fact_budget b JOIN _scope s ON s.unit_code = b.unit_code AND s.fiscal_year = b.fiscal_year
    WHERE fw_counts_as_three_public(b.econ_code, b.fund_source, b.spending_type)
    GROUP BY ALL
),
mart AS (
    SELECT m.unit_code, m.fiscal_year, sum(m.spent_yuan) AS spent, sum(m.budget_yuan) AS budget
    FROM build.three_public m JOIN _scope s ON s.unit_code = m.unit_code AND s.fiscal_year = m.fiscal_year
    GROUP BY ALL
),
compared AS (
    SELECT s.unit_code, s.fiscal_year, t.*
    FROM _scope s
    LEFT JOIN facts f ON f.unit_code = s.unit_code AND f.fiscal_year = s.fiscal_year
    LEFT JOIN budget b ON b.unit_code = s.unit_code AND b.fiscal_year = s.fiscal_year
    LEFT JOIN mart m ON m.unit_code = s.unit_code AND m.fiscal_year = s.fiscal_year,
    (VALUES
        ('three_public.spent_yuan 合计', coalesce(m.spent, 0)::DECIMAL(18, 2), coalesce(f.spent, 0)::DECIMAL(18, 2)),
        ('three_public.budget_yuan 合计', coalesce(m.budget, 0)::DECIMAL(18, 2), coalesce(b.budget, 0)::DECIMAL(18, 2))
    ) t(field, provided, expected)
)
SELECT unit_code, fiscal_year, NULL::VARCHAR AS source_file, NULL::BIGINT AS source_row, field,
       provided::VARCHAR AS value_provided, expected::VARCHAR AS value_expected,
       (provided - expected)::DECIMAL(18, 2) AS difference, '期望值 = core 事实表中的“三公”经费（财政拨款）' AS detail
FROM compared WHERE provided <> expected
