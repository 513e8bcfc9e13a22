-- tieout_category_total: per unit and year, Σ spending_by_category.amount_yuan (as built)
-- = Σ core.fact_spending.amount, its basic spending (基本支出, what the report lists by
-- class) = the facts' basic spending, and Σ line_count = the number of spending lines.
WITH facts AS (
    SELECT f.unit_code, f.fiscal_year, sum(f.amount) AS total, count(*) AS lines,
           sum(f.amount) FILTER (WHERE f.spending_type = '基本支出') AS basic
    FROM core.fact_spending f JOIN _scope s ON s.unit_code = f.unit_code AND s.fiscal_year = f.fiscal_year
    GROUP BY ALL
),
mart AS (
    SELECT m.unit_code, m.fiscal_year, sum(m.amount_yuan) AS total, sum(m.line_count) AS lines,
           sum(m.amount_yuan) FILTER (WHERE m.spending_type = '基本支出') AS basic
    FROM build.spending_by_category m JOIN _scope s ON s.unit_code = m.unit_code AND s.fiscal_year = m.fiscal_year
    GROUP BY ALL
),
compared AS (
    SELECT s.unit_code, s.fiscal_year, t.*
    FROM _scope s
    LEFT JOIN facts f ON f.unit_code = s.unit_code AND f.fiscal_year = s.fiscal_year
    LEFT JOIN mart m ON m.unit_code = s.unit_code AND m.fiscal_year = s.fiscal_year,
    (VALUES
        ('spending_by_category.amount_yuan 合计', coalesce(m.total, 0)::DECIMAL(18, 2), coalesce(f.total, 0)::DECIMAL(18, 2)),
        ('spending_by_category.amount_yuan 基本支出', coalesce(m.basic, 0)::DECIMAL(18, 2), coalesce(f.basic, 0)::DECIMAL(18, 2)),
        ('spending_by_category.line_count 合计', coalesce(m.lines, 0)::DECIMAL(18, 2), coalesce(f.lines, 0)::DECIMAL(18, 2))
    ) t(field, provided, expected)
)
SELECT unit_code, fiscal_year, NULL::VARCHAR AS source_file, NULL::BIGINT AS source_row, field,
       provided::VARCHAR AS value_provided, expected::VARCHAR AS value_expected,
       (provided - expected)::DECIMAL(18, 2) AS difference, '期望值 = core.fact_spending' AS detail
FROM compared WHERE provided <> expected
