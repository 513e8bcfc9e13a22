-- tieout_year_total: per unit and year, spending_by_year (as built) total_yuan, basic_yuan,
-- project_yuan, other_yuan and three_public_yuan = the same sums over core.fact_spending. With
-- tieout_category_total and tieout_project_total this makes Σ spending_by_category =
-- Σ spending_by_project + basic spending = spending_by_year.total_yuan.
WITH facts AS (
    SELECT f.unit_code, f.fiscal_year, sum(f.amount) AS total,
           sum(f.amount) FILTER (WHERE f.spending_type = '基本支出') AS basic,
           sum(f.amount) FILTER (WHERE f.spending_type = '项目支出') AS project,
           sum(f.amount) FILTER (WHERE NOT fw_is_basic_or_project(f.spending_type)) AS other,
           sum(f.amount) FILTER (WHERE fw_counts_as_three_public(f.econ_code, f.fund_source, f.spending_type))
               AS three_public
    FROM core.fact_spending f JOIN _scope s ON s.unit_code = f.unit_code AND s.fiscal_year = f.fiscal_year
    GROUP BY ALL
),
mart AS (
    SELECT m.unit_code, m.fiscal_year, sum(m.total_yuan) AS total, sum(m.basic_yuan) AS basic,
           sum(m.project_yuan) AS project, sum(m.other_yuan) AS other, sum(m.three_public_yuan) AS three_public
    FROM build.spending_by_year m JOIN _scope s ON s.unit_code = m.unit_code AND s.fiscal_year = m.fiscal_year
    GROUP BY ALL
),
compared AS (
    SELECT s.unit_code, s.fiscal_year, t.*
    FROM _scope s
    LEFT JOIN facts f ON f.unit_code = s.unit_code AND f.fiscal_year = s.fiscal_year
    LEFT JOIN mart m ON m.unit_code = s.unit_code AND m.fiscal_year = s.fiscal_year,
    (VALUES
        ('spending_by_year.total_yuan', coalesce(m.total, 0)::DECIMAL(18, 2), coalesce(f.total, 0)::DECIMAL(18, 2)),
        ('spending_by_year.basic_yuan', coalesce(m.basic, 0)::DECIMAL(18, 2), coalesce(f.basic, 0)::DECIMAL(18, 2)),
        ('spending_by_year.project_yuan', coalesce(m.project, 0)::DECIMAL(18, 2), coalesce(f.project, 0)::DECIMAL(18, 2)),
        ('spending_by_year.other_yuan', coalesce(m.other, 0)::DECIMAL(18, 2), coalesce(f.other, 0)::DECIMAL(18, 2)),
        ('spending_by_year.three_public_yuan', coalesce(m.three_public, 0)::DECIMAL(18, 2), coalesce(f.three_public, 0)::DECIMAL(18, 2))
    ) t(field, provided, expected)
)
SELECT unit_code, fiscal_year, NULL::VARCHAR AS source_file, NULL::BIGINT AS source_row, field,
       provided::VARCHAR AS value_provided, expected::VARCHAR AS value_expected,
       (provided - expected)::DECIMAL(18, 2) AS difference, '期望值 = core.fact_spending' AS detail
FROM compared WHERE provided <> expected
