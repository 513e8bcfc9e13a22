-- marts.evaluation_indicators: the common indicators of whole-department spending
-- (财预〔2013〕53号 附件2, domain.md) for every unit and year. value is NULL, with the
-- reason, when a denominator is zero or a prior year is missing; standards come from the
-- rules file (`_standards`), and meets_standard is NULL for indicators only reported.
WITH uy AS (
    SELECT u.* FROM core.dim_unit_year u JOIN _scope s ON s.unit_code = u.unit_code AND s.fiscal_year = u.fiscal_year
),
spend AS (
    SELECT unit_code, fiscal_year,
        sum(amount) AS spent,
        sum(amount) FILTER (WHERE spending_type = '项目支出') AS project_spent,
        sum(amount) FILTER (WHERE spending_type = '基本支出' AND left(econ_code, 3) = '302') AS basic_302_spent,
        sum(amount) FILTER (WHERE fw_is_three_public(econ_code) AND fw_is_fiscal_appropriation(fund_source)) AS three_public_spent
    FROM core.fact_spending GROUP BY ALL
),
key_spend AS (
    SELECT f.unit_code, f.fiscal_year, sum(f.amount) AS key_spent
    FROM core.fact_spending f
    JOIN core.dim_project p ON p.unit_code = f.unit_code AND p.fiscal_year = f.fiscal_year AND p.project_code = f.project_code
    WHERE p.is_key GROUP BY ALL
),
budget AS (
    SELECT unit_code, fiscal_year,
        sum(amount) AS final,
        sum(amount) FILTER (WHERE budget_kind = '年初预算') AS initial,
        sum(amount) FILTER (WHERE spending_type = '基本支出' AND left(econ_code, 3) = '302') AS basic_302_final,
        sum(amount) FILTER (WHERE fw_is_three_public(econ_code) AND fw_is_fiscal_appropriation(fund_source)) AS three_public_final,
        sum(procurement_amount) AS procurement_budget
    FROM core.fact_budget GROUP BY ALL
),
procurement AS (
    SELECT unit_code, fiscal_year, sum(contract_amount) AS contracts FROM core.fact_procurement GROUP BY ALL
),
base AS (
    SELECT
        uy.unit_code, uy.fiscal_year, uy.unit_name,
        st.in_service, st.authorized,
        coalesce(sp.spent, 0) AS spent, coalesce(sp.project_spent, 0) AS project_spent,
        coalesce(ks.key_spent, 0) AS key_spent,
        coalesce(sp.basic_302_spent, 0) AS basic_302_spent,
        coalesce(sp.three_public_spent, 0) AS three_public_spent,
        coalesce(b.final, 0) AS final, coalesce(b.initial, 0) AS initial,
        coalesce(b.basic_302_final, 0) AS basic_302_final,
        coalesce(b.three_public_final, 0) AS three_public_final,
        coalesce(b.procurement_budget, 0) AS procurement_budget,
        coalesce(pr.contracts, 0) AS contracts,
        prior.unit_code IS NOT NULL AS has_prior,
        coalesce(psp.three_public_spent, 0) AS prior_three_public,
        coalesce(pb.final, 0) - coalesce(psp.spent, 0) AS prior_carryover,
        CASE WHEN uy.fiscal_year < year(current_date) THEN 12
             WHEN uy.fiscal_year = year(current_date) THEN month(current_date)
        END AS elapsed_months
    FROM uy
    LEFT JOIN core.fact_staffing st ON st.unit_code = uy.unit_code AND st.fiscal_year = uy.fiscal_year
    LEFT JOIN spend sp ON sp.unit_code = uy.unit_code AND sp.fiscal_year = uy.fiscal_year
    LEFT JOIN key_spend ks ON ks.unit_code = uy.unit_code AND ks.fiscal_year = uy.fiscal_year
    LEFT JOIN budget b ON b.unit_code = uy.unit_code AND b.fiscal_year = uy.fiscal_year
    LEFT JOIN procurement pr ON pr.unit_code = uy.unit_code AND pr.fiscal_year = uy.fiscal_year
    LEFT JOIN core.dim_unit_year prior ON prior.unit_code = uy.unit_code AND prior.fiscal_year = uy.fiscal_year - 1
    LEFT JOIN spend psp ON psp.unit_code = uy.unit_code AND psp.fiscal_year = uy.fiscal_year - 1
    LEFT JOIN budget pb ON pb.unit_code = uy.unit_code AND pb.fiscal_year = uy.fiscal_year - 1
),
rows AS (
    SELECT unit_code, fiscal_year, unit_name, 1 AS indicator_order, 'staff_control' AS indicator_code,
        '在职人员控制率' AS indicator_name, in_service::DECIMAL(18, 2) AS numerator, authorized::DECIMAL(18, 2) AS denominator,
        '在职人员控制率 = 实有在职人数 / 编制数' AS formula,
        CASE WHEN authorized IS NULL THEN '无人员情况数据 / no staffing data'
             WHEN authorized = 0 THEN '编制数为0 / no authorized posts' END AS reason
    FROM base
    UNION ALL
    SELECT unit_code, fiscal_year, unit_name, 2, 'three_public_change', '“三公经费”变动率',
        CASE WHEN has_prior THEN three_public_spent - prior_three_public END, CASE WHEN has_prior THEN prior_three_public END,
        '“三公经费”变动率 = （本年度“三公经费”总额 - 上年度“三公经费”总额）/ 上年度“三公经费”总额',
        CASE WHEN NOT has_prior THEN '无上年数据 / no prior year in the warehouse'
             WHEN prior_three_public = 0 THEN '上年度“三公经费”为0 / prior-year 三公 spending is zero' END
    FROM base
    UNION ALL
    SELECT unit_code, fiscal_year, unit_name, 3, 'key_spending_share', '重点支出安排率', key_spent, project_spent,
        '重点支出安排率 = 重点项目支出 / 项目支出',
        CASE WHEN project_spent = 0 THEN '无项目支出 / no project spending' END
    FROM base
    UNION ALL
    SELECT unit_code, fiscal_year, unit_name, 4, 'budget_completion', '预算完成率', spent, final,
        '预算完成率 = 预算完成数 / 预算数（全年预算数）',
        CASE WHEN final = 0 THEN '全年预算数为0 / final budget is zero' END
    FROM base
    UNION ALL
    SELECT unit_code, fiscal_year, unit_name, 5, 'budget_adjustment', '预算调整率', final - initial, initial,
        '预算调整率 = 预算调整数 / 预算数（年初预算数）',
        CASE WHEN initial = 0 THEN '年初预算数为0 / initial budget is zero' END
    FROM base
    UNION ALL
    SELECT unit_code, fiscal_year, unit_name, 6, 'payment_progress', '支付进度率', spent,
        CASE WHEN elapsed_months IS NOT NULL THEN final * elapsed_months / 12 END,
        '支付进度率 = 实际支付进度 / 既定支付进度 = 累计支出 / （全年预算数 × 已过月数 / 12）',
        CASE WHEN elapsed_months IS NULL THEN '年度尚未开始 / the year has not begun'
             WHEN final = 0 THEN '全年预算数为0 / final budget is zero' END
    FROM base
    UNION ALL
    SELECT unit_code, fiscal_year, unit_name, 7, 'carryover_rate', '结转结余率', final - spent, final,
        '结转结余率 = 结转结余总额 / 全年预算数，结转结余总额 = 全年预算数 - 全年支出',
        CASE WHEN final = 0 THEN '全年预算数为0 / final budget is zero' END
    FROM base
    UNION ALL
    SELECT unit_code, fiscal_year, unit_name, 8, 'carryover_change', '结转结余变动率',
        CASE WHEN has_prior THEN (final - spent) - prior_carryover END, CASE WHEN has_prior THEN prior_carryover END,
        '结转结余变动率 = （本年度累计结转结余资金总额 - 上年度累计结转结余资金总额）/ 上年度累计结转结余资金总额',
        CASE WHEN NOT has_prior THEN '无上年数据 / no prior year in the warehouse'
             WHEN prior_carryover = 0 THEN '上年度结转结余为0 / prior-year carry-over is zero' END
    FROM base
    UNION ALL
    SELECT unit_code, fiscal_year, unit_name, 9, 'public_funds_control', '公用经费控制率', basic_302_spent, basic_302_final,
        '公用经费控制率 = 实际支出公用经费总额（基本支出302）/ 预算安排公用经费总额',
        CASE WHEN basic_302_final = 0 THEN '无公用经费预算 / no basic-spending 302 budget' END
    FROM base
    UNION ALL
    SELECT unit_code, fiscal_year, unit_name, 10, 'three_public_control', '“三公经费”控制率', three_public_spent, three_public_final,
        '“三公经费”控制率 = “三公经费”实际支出数 / “三公经费”预算安排数',
        CASE WHEN three_public_final = 0 THEN '无“三公经费”预算 / no 三公 budget' END
    FROM base
    UNION ALL
    SELECT unit_code, fiscal_year, unit_name, 11, 'procurement_execution', '政府采购执行率', contracts, procurement_budget,
        '政府采购执行率 = 实际政府采购金额 / 政府采购预算数',
        CASE WHEN procurement_budget = 0 THEN '无政府采购预算 / no procurement budget' END
    FROM base
),
valued AS (
    SELECT r.*,
        CASE WHEN r.reason IS NULL AND r.denominator <> 0 THEN r.numerator::DOUBLE / r.denominator::DOUBLE END AS value
    FROM rows r
)
SELECT
    v.fiscal_year, v.unit_code, v.unit_name, v.indicator_code, v.indicator_name,
    v.value, v.numerator::DECIMAL(18, 2) AS numerator, v.denominator::DECIMAL(18, 2) AS denominator,
    v.formula,
    CASE WHEN s.op IS NULL THEN '（仅报告）'
         ELSE replace(replace(s.op, '<=', '≤'), '>=', '≥') || CAST(round(s.threshold * 100, 2) AS VARCHAR) || '%' END AS standard,
    CASE WHEN s.op IS NULL OR v.value IS NULL THEN NULL
         WHEN s.op = '<=' THEN v.value <= s.threshold
         WHEN s.op = '>=' THEN v.value >= s.threshold
         WHEN s.op = '<' THEN v.value < s.threshold
         WHEN s.op = '>' THEN v.value > s.threshold
         ELSE v.value = s.threshold
    END AS meets_standard,
    CASE WHEN v.reason IS NULL AND v.denominator = 0 THEN '分母为0 / denominator is zero' ELSE v.reason END AS reason,
    v.indicator_order
FROM valued v
LEFT JOIN _standards s ON s.indicator_code = v.indicator_code
