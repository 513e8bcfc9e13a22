-- marts.three_public: the four 三公 items for every unit and year, 0.00 where nothing.
-- Spending and budget count only fiscal appropriations (一般公共预算, 政府性基金预算,
-- 国有资本经营预算), basic or project; 公务用车购置 takes 31013 and 30913.
WITH items AS (
    SELECT * FROM (VALUES
        (1, '30212', '因公出国（境）费用'),
        (2, '30217', '公务接待费'),
        (3, '31013', '公务用车购置'),
        (4, '30231', '公务用车运行维护费')
    ) v(item_order, item_code, item_name)
),
spent AS (
    SELECT unit_code, fiscal_year, fw_three_public_item(econ_code) AS item_code, sum(amount) AS spent
    FROM core.fact_spending
    WHERE fw_counts_as_three_public(econ_code, fund_source, spending_type)
    GROUP BY ALL
),
budget AS (
    SELECT unit_code, fiscal_year, fw_three_public_item(econ_code) AS item_code, sum(amount) AS budget
    FROM core.fact_budget
    WHERE fw_counts_as_three_public(econ_code, fund_source, spending_type)
    GROUP BY ALL
)
SELECT
    u.fiscal_year, u.unit_code, u.unit_name, i.item_code, i.item_name,
    coalesce(b.budget, 0)::DECIMAL(18, 2) AS budget_yuan,
    coalesce(x.spent, 0)::DECIMAL(18, 2) AS spent_yuan,
    CASE WHEN coalesce(b.budget, 0) <> 0 THEN coalesce(x.spent, 0)::DOUBLE / b.budget::DOUBLE END AS control_rate,
    CASE WHEN prior.unit_code IS NOT NULL THEN coalesce(px.spent, 0) END::DECIMAL(18, 2) AS prior_year_spent_yuan,
    NULLIF(concat_ws('；',
        CASE WHEN coalesce(b.budget, 0) = 0 THEN '无该项预算，不计算控制率 / no budget for the item' END,
        CASE WHEN prior.unit_code IS NULL THEN '无上年数据 / no prior year in the warehouse' END), '') AS reason,
    i.item_order
FROM core.dim_unit_year u
JOIN _scope s ON s.unit_code = u.unit_code AND s.fiscal_year = u.fiscal_year
CROSS JOIN items i
LEFT JOIN spent x ON x.unit_code = u.unit_code AND x.fiscal_year = u.fiscal_year AND x.item_code = i.item_code
LEFT JOIN budget b ON b.unit_code = u.unit_code AND b.fiscal_year = u.fiscal_year AND b.item_code = i.item_code
LEFT JOIN core.dim_unit_year prior ON prior.unit_code = u.unit_code AND prior.fiscal_year = u.fiscal_year - 1
LEFT JOIN spent px ON px.unit_code = u.unit_code AND px.fiscal_year = u.fiscal_year - 1 AND px.item_code = i.item_code
