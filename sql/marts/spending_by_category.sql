-- marts.spending_by_category: spending by unit, year, spending type (基本支出, 项目支出 or
-- one of the other types of core.fact_spending),
-- economic class, functional class and fund source, with class names valid that year.
SELECT
    f.fiscal_year, f.unit_code, u.unit_name, f.spending_type,
    f.econ_code, e.name AS econ_name, left(f.econ_code, 3) AS econ_l1_code, e1.name AS econ_l1_name,
    f.func_code, fn.name AS func_name, left(f.func_code, 3) AS func_l1_code, f1.name AS func_l1_name,
    f.fund_source,
    sum(f.amount)::DECIMAL(18, 2) AS amount_yuan,
    count(*) AS line_count
FROM core.fact_spending f
JOIN _scope s ON s.unit_code = f.unit_code AND s.fiscal_year = f.fiscal_year
JOIN core.dim_unit_year u ON u.unit_code = f.unit_code AND u.fiscal_year = f.fiscal_year
LEFT JOIN ref.econ_class e
  ON e.code = f.econ_code AND f.fiscal_year BETWEEN e.valid_from AND coalesce(e.valid_to, 9999)
LEFT JOIN ref.econ_class e1
  ON e1.code = left(f.econ_code, 3) AND f.fiscal_year BETWEEN e1.valid_from AND coalesce(e1.valid_to, 9999)
LEFT JOIN ref.func_class fn
  ON fn.code = f.func_code AND f.fiscal_year BETWEEN fn.valid_from AND coalesce(fn.valid_to, 9999)
LEFT JOIN ref.func_class f1
  ON f1.code = left(f.func_code, 3) AND f.fiscal_year BETWEEN f1.valid_from AND coalesce(f1.valid_to, 9999)
GROUP BY ALL
