-- public_equals_internal: per unit and year, for every amount column of every mart, the
-- public copy (build_public) adds up to the internal one (build): redaction folds 涉密
-- projects into one UNDISCLOSED row but totals must not move. Marts that are not redacted
-- must also have the same number of rows. (performance_indicators is left out: the public
-- copy drops the indicators of 涉密 projects on purpose and it carries no amounts.)
WITH
i0 AS (
    SELECT t.unit_code, t.fiscal_year, sum(t.amount_yuan) AS amount_yuan, sum(t.line_count) AS line_count, count(*) AS row_count
    FROM build.spending_by_category t JOIN _scope s ON s.unit_code = t.unit_code AND s.fiscal_year = t.fiscal_year
    GROUP BY ALL
),
p0 AS (
    SELECT t.unit_code, t.fiscal_year, sum(t.amount_yuan) AS amount_yuan, sum(t.line_count) AS line_count, count(*) AS row_count
    FROM build_public.spending_by_category t JOIN _scope s ON s.unit_code = t.unit_code AND s.fiscal_year = t.fiscal_year
    GROUP BY ALL
),
i1 AS (
    SELECT t.unit_code, t.fiscal_year, sum(t.budget_initial_yuan) AS budget_initial_yuan, sum(t.budget_final_yuan) AS budget_final_yuan, sum(t.spent_yuan) AS spent_yuan, count(*) AS row_count
    FROM build.spending_by_project t JOIN _scope s ON s.unit_code = t.unit_code AND s.fiscal_year = t.fiscal_year
    GROUP BY ALL
),
p1 AS (
    SELECT t.unit_code, t.fiscal_year, sum(t.budget_initial_yuan) AS budget_initial_yuan, sum(t.budget_final_yuan) AS budget_final_yuan, sum(t.spent_yuan) AS spent_yuan, count(*) AS row_count
    FROM build_public.spending_by_project t JOIN _scope s ON s.unit_code = t.unit_code AND s.fiscal_year = t.fiscal_year
    GROUP BY ALL
),
i2 AS (
    SELECT t.unit_code, t.fiscal_year, sum(t.basic_yuan) AS basic_yuan, sum(t.project_yuan) AS project_yuan, sum(t.total_yuan) AS total_yuan, sum(t.personnel_yuan) AS personnel_yuan, sum(t.public_funds_yuan) AS public_funds_yuan, sum(t.three_public_yuan) AS three_public_yuan, sum(t.prior_year_total_yuan) AS prior_year_total_yuan, count(*) AS row_count
    FROM build.spending_by_year t JOIN _scope s ON s.unit_code = t.unit_code AND s.fiscal_year = t.fiscal_year
    GROUP BY ALL
),
p2 AS (
    SELECT t.unit_code, t.fiscal_year, sum(t.basic_yuan) AS basic_yuan, sum(t.project_yuan) AS project_yuan, sum(t.total_yuan) AS total_yuan, sum(t.personnel_yuan) AS personnel_yuan, sum(t.public_funds_yuan) AS public_funds_yuan, sum(t.three_public_yuan) AS three_public_yuan, sum(t.prior_year_total_yuan) AS prior_year_total_yuan, count(*) AS row_count
    FROM build_public.spending_by_year t JOIN _scope s ON s.unit_code = t.unit_code AND s.fiscal_year = t.fiscal_year
    GROUP BY ALL
),
i3 AS (
    SELECT t.unit_code, t.fiscal_year, sum(t.budget_initial_yuan) AS budget_initial_yuan, sum(t.budget_final_yuan) AS budget_final_yuan, sum(t.adjustment_yuan) AS adjustment_yuan, sum(t.spent_yuan) AS spent_yuan, count(*) AS row_count
    FROM build.budget_execution t JOIN _scope s ON s.unit_code = t.unit_code AND s.fiscal_year = t.fiscal_year
    GROUP BY ALL
),
p3 AS (
    SELECT t.unit_code, t.fiscal_year, sum(t.budget_initial_yuan) AS budget_initial_yuan, sum(t.budget_final_yuan) AS budget_final_yuan, sum(t.adjustment_yuan) AS adjustment_yuan, sum(t.spent_yuan) AS spent_yuan, count(*) AS row_count
    FROM build_public.budget_execution t JOIN _scope s ON s.unit_code = t.unit_code AND s.fiscal_year = t.fiscal_year
    GROUP BY ALL
),
i4 AS (
    SELECT t.unit_code, t.fiscal_year, sum(t.budget_yuan) AS budget_yuan, sum(t.spent_yuan) AS spent_yuan, sum(t.prior_year_spent_yuan) AS prior_year_spent_yuan, count(*) AS row_count
    FROM build.three_public t JOIN _scope s ON s.unit_code = t.unit_code AND s.fiscal_year = t.fiscal_year
    GROUP BY ALL
),
p4 AS (
    SELECT t.unit_code, t.fiscal_year, sum(t.budget_yuan) AS budget_yuan, sum(t.spent_yuan) AS spent_yuan, sum(t.prior_year_spent_yuan) AS prior_year_spent_yuan, count(*) AS row_count
    FROM build_public.three_public t JOIN _scope s ON s.unit_code = t.unit_code AND s.fiscal_year = t.fiscal_year
    GROUP BY ALL
),
i5 AS (
    SELECT t.unit_code, t.fiscal_year, sum(t.numerator) AS numerator, sum(t.denominator) AS denominator, count(*) AS row_count
    FROM build.evaluation_indicators t JOIN _scope s ON s.unit_code = t.unit_code AND s.fiscal_year = t.fiscal_year
    GROUP BY ALL
),
p5 AS (
    SELECT t.unit_code, t.fiscal_year, sum(t.numerator) AS numerator, sum(t.denominator) AS denominator, count(*) AS row_count
    FROM build_public.evaluation_indicators t JOIN _scope s ON s.unit_code = t.unit_code AND s.fiscal_year = t.fiscal_year
    GROUP BY ALL
),
compared AS (
    SELECT s.unit_code, s.fiscal_year, v.*
    FROM _scope s
    LEFT JOIN i0 ON i0.unit_code = s.unit_code AND i0.fiscal_year = s.fiscal_year
    LEFT JOIN p0 ON p0.unit_code = s.unit_code AND p0.fiscal_year = s.fiscal_year
    LEFT JOIN i1 ON i1.unit_code = s.unit_code AND i1.fiscal_year = s.fiscal_year
    LEFT JOIN p1 ON p1.unit_code = s.unit_code AND p1.fiscal_year = s.fiscal_year
    LEFT JOIN i2 ON i2.unit_code = s.unit_code AND i2.fiscal_year = s.fiscal_year
    LEFT JOIN p2 ON p2.unit_code = s.unit_code AND p2.fiscal_year = s.fiscal_year
    LEFT JOIN i3 ON i3.unit_code = s.unit_code AND i3.fiscal_year = s.fiscal_year
    LEFT JOIN p3 ON p3.unit_code = s.unit_code AND p3.fiscal_year = s.fiscal_year
    LEFT JOIN i4 ON i4.unit_code = s.unit_code AND i4.fiscal_year = s.fiscal_year
    LEFT JOIN p4 ON p4.unit_code = s.unit_code AND p4.fiscal_year = s.fiscal_year
    LEFT JOIN i5 ON i5.unit_code = s.unit_code AND i5.fiscal_year = s.fiscal_year
    LEFT JOIN p5 ON p5.unit_code = s.unit_code AND p5.fiscal_year = s.fiscal_year,
    (VALUES
        ('spending_by_category.amount_yuan', coalesce(p0.amount_yuan, 0)::DECIMAL(18, 2), coalesce(i0.amount_yuan, 0)::DECIMAL(18, 2)),
        ('spending_by_category.line_count', coalesce(p0.line_count, 0)::DECIMAL(18, 2), coalesce(i0.line_count, 0)::DECIMAL(18, 2)),
        ('spending_by_category 行数', coalesce(p0.row_count, 0)::DECIMAL(18, 2), coalesce(i0.row_count, 0)::DECIMAL(18, 2)),
        ('spending_by_project.budget_initial_yuan', coalesce(p1.budget_initial_yuan, 0)::DECIMAL(18, 2), coalesce(i1.budget_initial_yuan, 0)::DECIMAL(18, 2)),
        ('spending_by_project.budget_final_yuan', coalesce(p1.budget_final_yuan, 0)::DECIMAL(18, 2), coalesce(i1.budget_final_yuan, 0)::DECIMAL(18, 2)),
        ('spending_by_project.spent_yuan', coalesce(p1.spent_yuan, 0)::DECIMAL(18, 2), coalesce(i1.spent_yuan, 0)::DECIMAL(18, 2)),
        ('spending_by_year.basic_yuan', coalesce(p2.basic_yuan, 0)::DECIMAL(18, 2), coalesce(i2.basic_yuan, 0)::DECIMAL(18, 2)),
        ('spending_by_year.project_yuan', coalesce(p2.project_yuan, 0)::DECIMAL(18, 2), coalesce(i2.project_yuan, 0)::DECIMAL(18, 2)),
        ('spending_by_year.total_yuan', coalesce(p2.total_yuan, 0)::DECIMAL(18, 2), coalesce(i2.total_yuan, 0)::DECIMAL(18, 2)),
        ('spending_by_year.personnel_yuan', coalesce(p2.personnel_yuan, 0)::DECIMAL(18, 2), coalesce(i2.personnel_yuan, 0)::DECIMAL(18, 2)),
        ('spending_by_year.public_funds_yuan', coalesce(p2.public_funds_yuan, 0)::DECIMAL(18, 2), coalesce(i2.public_funds_yuan, 0)::DECIMAL(18, 2)),
        ('spending_by_year.three_public_yuan', coalesce(p2.three_public_yuan, 0)::DECIMAL(18, 2), coalesce(i2.three_public_yuan, 0)::DECIMAL(18, 2)),
        ('spending_by_year.prior_year_total_yuan', coalesce(p2.prior_year_total_yuan, 0)::DECIMAL(18, 2), coalesce(i2.prior_year_total_yuan, 0)::DECIMAL(18, 2)),
        ('spending_by_year 行数', coalesce(p2.row_count, 0)::DECIMAL(18, 2), coalesce(i2.row_count, 0)::DECIMAL(18, 2)),
        ('budget_execution.budget_initial_yuan', coalesce(p3.budget_initial_yuan, 0)::DECIMAL(18, 2), coalesce(i3.budget_initial_yuan, 0)::DECIMAL(18, 2)),
        ('budget_execution.budget_final_yuan', coalesce(p3.budget_final_yuan, 0)::DECIMAL(18, 2), coalesce(i3.budget_final_yuan, 0)::DECIMAL(18, 2)),
        ('budget_execution.adjustment_yuan', coalesce(p3.adjustment_yuan, 0)::DECIMAL(18, 2), coalesce(i3.adjustment_yuan, 0)::DECIMAL(18, 2)),
        ('budget_execution.spent_yuan', coalesce(p3.spent_yuan, 0)::DECIMAL(18, 2), coalesce(i3.spent_yuan, 0)::DECIMAL(18, 2)),
        ('budget_execution 行数', coalesce(p3.row_count, 0)::DECIMAL(18, 2), coalesce(i3.row_count, 0)::DECIMAL(18, 2)),
        ('three_public.budget_yuan', coalesce(p4.budget_yuan, 0)::DECIMAL(18, 2), coalesce(i4.budget_yuan, 0)::DECIMAL(18, 2)),
        ('three_public.spent_yuan', coalesce(p4.spent_yuan, 0)::DECIMAL(18, 2), coalesce(i4.spent_yuan, 0)::DECIMAL(18, 2)),
        ('three_public.prior_year_spent_yuan', coalesce(p4.prior_year_spent_yuan, 0)::DECIMAL(18, 2), coalesce(i4.prior_year_spent_yuan, 0)::DECIMAL(18, 2)),
        ('three_public 行数', coalesce(p4.row_count, 0)::DECIMAL(18, 2), coalesce(i4.row_count, 0)::DECIMAL(18, 2)),
        ('evaluation_indicators.numerator', coalesce(p5.numerator, 0)::DECIMAL(18, 2), coalesce(i5.numerator, 0)::DECIMAL(18, 2)),
        ('evaluation_indicators.denominator', coalesce(p5.denominator, 0)::DECIMAL(18, 2), coalesce(i5.denominator, 0)::DECIMAL(18, 2)),
        ('evaluation_indicators 行数', coalesce(p5.row_count, 0)::DECIMAL(18, 2), coalesce(i5.row_count, 0)::DECIMAL(18, 2))
    ) v(field, provided, expected)
)
SELECT unit_code, fiscal_year, NULL::VARCHAR AS source_file, NULL::BIGINT AS source_row, field,
       provided::VARCHAR AS value_provided, expected::VARCHAR AS value_expected,
       (provided - expected)::DECIMAL(18, 2) AS difference, '公开版（build_public）合计 vs 内部版（build）合计' AS detail
FROM compared WHERE provided <> expected
