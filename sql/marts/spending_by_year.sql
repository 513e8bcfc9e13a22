-- marts.spending_by_year: a unit's year in totals. basic + project + other = total, where
-- other is every expenditure account that is neither 基本 nor 项目 (7301 经营支出, 7401
-- 上缴上级支出, 7501 …, core.fact_spending decides; contract 2.1, changed 2026-11-29).
-- personnel = basic 301 + 303; public funds (公用经费, the one definition every indicator
-- uses) = the rest of basic spending; 三公 = 30212, 30217, 31013/30913, 30231 paid from
-- fiscal appropriations (basic or project). yoy_change_rate is NULL in a unit's first year.
WITH totals AS (
    SELECT
        u.unit_code, u.fiscal_year, u.unit_name,
        coalesce(sum(f.amount) FILTER (WHERE f.spending_type = '基本支出'), 0) AS basic,
        coalesce(sum(f.amount) FILTER (WHERE f.spending_type = '项目支出'), 0) AS project,
        coalesce(sum(f.amount) FILTER (WHERE NOT fw_is_basic_or_project(f.spending_type)), 0) AS other,
        coalesce(sum(f.amount), 0) AS total,
        coalesce(sum(f.amount) FILTER (WHERE f.spending_type = '基本支出' AND left(f.econ_code, 3) IN ('301', '303')), 0)
            AS personnel,
        coalesce(sum(f.amount) FILTER (WHERE fw_counts_as_three_public(f.econ_code, f.fund_source, f.spending_type)), 0)
            AS three_public
    FROM core.dim_unit_year u
    LEFT JOIN core.fact_spending f ON f.unit_code = u.unit_code AND f.fiscal_year = u.fiscal_year
    WHERE (u.unit_code, u.fiscal_year) IN (SELECT unit_code, fiscal_year FROM _scope)
       OR (u.unit_code, u.fiscal_year + 1) IN (SELECT unit_code, fiscal_year FROM _scope)
    GROUP BY ALL
)
SELECT
    t.fiscal_year, t.unit_code, t.unit_name,
    t.basic::DECIMAL(18, 2) AS basic_yuan,
    t.project::DECIMAL(18, 2) AS project_yuan,
    t.other::DECIMAL(18, 2) AS other_yuan,
    t.total::DECIMAL(18, 2) AS total_yuan,
    t.personnel::DECIMAL(18, 2) AS personnel_yuan,
    (t.basic - t.personnel)::DECIMAL(18, 2) AS public_funds_yuan,
    t.three_public::DECIMAL(18, 2) AS three_public_yuan,
    p.total::DECIMAL(18, 2) AS prior_year_total_yuan,
    CASE WHEN p.total <> 0 THEN (t.total - p.total)::DOUBLE / p.total::DOUBLE END AS yoy_change_rate,
    CASE WHEN p.unit_code IS NULL THEN '无上年数据 / no prior year in the warehouse'
         WHEN p.total = 0 THEN '上年支出为0 / prior-year spending is zero' END AS reason
FROM totals t
LEFT JOIN totals p ON p.unit_code = t.unit_code AND p.fiscal_year = t.fiscal_year - 1
WHERE (t.unit_code, t.fiscal_year) IN (SELECT unit_code, fiscal_year FROM _scope)
