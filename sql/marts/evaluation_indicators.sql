-- marts.evaluation_indicators: the common indicators of whole-department spending
-- (财预〔2013〕53号 附件2, domain.md "Common indicators") for every unit and year. Each
-- formula is written once, here, with its source beside it. value is NULL, with the
-- reason, when a denominator is zero or a prior year is missing; standards come from the
-- rules file (`_standards`: an operator and threshold, or `between` low and high, both
-- included, DECIMAL), and meets_standard is NULL for indicators only reported. The verdict
-- is decided once, here, in DECIMAL on the exact numerator and denominator (a rate exactly
-- at its threshold meets it), never on the DOUBLE `value`. "Budget" is the
-- final budget (全年预算数) unless said otherwise. Spending measured against it is total
-- spending (支出合计): every 7xxx line, 基本 + 项目 + the other types of contract 2.1 (经营支出,
-- 上缴上级支出 …), as contract 3 defines spending (Σ(debit − credit) on 7xxx lines) and
-- domain.md 预算完成率, 支付进度率 and 结转结余 use it.
WITH uy AS (
    SELECT u.* FROM core.dim_unit_year u JOIN _scope s ON s.unit_code = u.unit_code AND s.fiscal_year = u.fiscal_year
),
spend AS (
    SELECT unit_code, fiscal_year,
        sum(amount) AS spent,
        sum(amount) FILTER (WHERE fw_counts_as_three_public(econ_code, fund_source, spending_type)) AS three_public_spent
    FROM core.fact_spending GROUP BY ALL
),
-- 公用经费: the one definition, spending_by_year.public_funds_yuan (basic spending outside
-- 301 工资福利支出 and 303 对个人和家庭的补助; 53号 counts 一般设备购置 in it too). The budget
-- side applies the same test to the basic budget lines.
public_funds AS (
    SELECT y.unit_code, y.fiscal_year, y.public_funds_yuan AS spent
    FROM build.spending_by_year y JOIN _scope s ON s.unit_code = y.unit_code AND s.fiscal_year = y.fiscal_year
),
budget AS (
    SELECT b.unit_code, b.fiscal_year,
        sum(b.amount) AS final,
        sum(b.amount) FILTER (WHERE b.budget_kind = '年初预算') AS initial,
        -- 预算调整数 (53号: 追加、追减或结构调整的资金总和): 追加 + |追减| + the 调剂 moved in;
        -- 上年结转 is available money, not an adjustment.
        sum(b.amount) FILTER (WHERE b.budget_kind = '追加') AS added,
        sum(abs(b.amount)) FILTER (WHERE b.budget_kind = '追减') AS cut,
        sum(b.amount) FILTER (WHERE b.budget_kind = '调剂' AND b.amount > 0) AS moved_in,
        sum(b.amount) FILTER (WHERE b.spending_type = '项目支出') AS project_final,
        sum(b.amount) FILTER (WHERE b.spending_type = '项目支出' AND p.is_key) AS key_final,
        sum(b.amount) FILTER (WHERE b.spending_type = '基本支出' AND left(b.econ_code, 3) NOT IN ('301', '303'))
            AS public_funds_final,
        sum(b.amount) FILTER (WHERE fw_counts_as_three_public(b.econ_code, b.fund_source, b.spending_type))
            AS three_public_final,
        sum(b.procurement_amount) AS procurement_budget
    FROM core.fact_budget b
    LEFT JOIN core.dim_project p
      ON p.unit_code = b.unit_code AND p.fiscal_year = b.fiscal_year AND p.project_code = b.project_code
    GROUP BY ALL
),
-- 结转结余 at year end, where the vouchers carry it: the credit balance of the budget-book
-- accounts 8101 财政拨款结转, 8102 财政拨款结余, 8201 非财政拨款结转, 8202 非财政拨款结余
-- (政府会计制度, 财会〔2017〕25号) over every voucher of the unit up to 31 December of the
-- year that the warehouse holds. A unit-year without a line on them falls back to final
-- budget − spending, and the formula says which. 结转结余变动率 compares like with like: the
-- balances when both years carry the accounts, else final budget − spending for both.
balance_lines AS (
    SELECT v.unit_code, v.fiscal_year, v.credit - v.debit AS amount
    FROM staging.voucher_lines v
    JOIN meta.slices a
      ON a.source_id = v.source_id AND a.unit_code = v.unit_code AND a.fiscal_year = v.fiscal_year AND a.status = 'active'
    WHERE v.reject_code IS NULL AND left(v.account_code, 4) IN ('8101', '8102', '8201', '8202')
      AND v.unit_code IN (SELECT unit_code FROM _scope)
),
balances AS (
    SELECT y.unit_code, y.fiscal_year, sum(l.amount) AS balance,
           bool_or(l.fiscal_year = y.fiscal_year) AS booked_this_year
    FROM (SELECT DISTINCT unit_code, fiscal_year FROM balance_lines
          UNION SELECT unit_code, fiscal_year FROM _scope
          UNION SELECT unit_code, fiscal_year - 1 FROM _scope) y
    JOIN balance_lines l ON l.unit_code = y.unit_code AND l.fiscal_year <= y.fiscal_year
    GROUP BY ALL
),
procurement AS (
    SELECT unit_code, fiscal_year, sum(contract_amount) AS contracts FROM core.fact_procurement GROUP BY ALL
),
-- 支付进度: spending up to each checkpoint of the rules file's schedule that the year has
-- reached (a closed year reaches all of them).
checkpoints AS (
    SELECT uy.unit_code, uy.fiscal_year, make_date(uy.fiscal_year, c.checkpoint_month, c.checkpoint_day) AS day,
           c.share
    FROM uy CROSS JOIN _payment_schedule c
    WHERE make_date(uy.fiscal_year, c.checkpoint_month, c.checkpoint_day) <= current_date
),
paid AS (
    SELECT c.unit_code, c.fiscal_year, c.day, c.share,
           coalesce(sum(f.amount), 0) AS paid
    FROM checkpoints c
    LEFT JOIN core.fact_spending f
      ON f.unit_code = c.unit_code AND f.fiscal_year = c.fiscal_year AND f.voucher_date <= c.day
    GROUP BY ALL
),
progress AS (
    SELECT p.unit_code, p.fiscal_year,
        string_agg(printf('%d月%d日 累计支出%s万元，目标%.2f%%', month(p.day), day(p.day),
                          (p.paid / 10000)::DECIMAL(18, 2)::VARCHAR, p.share * 100)
                   || coalesce(printf('，进度率%.2f%%', p.paid / nullif(b.final * p.share, 0) * 100), ''),
                   '；' ORDER BY p.day) AS detail
    FROM paid p
    LEFT JOIN budget b ON b.unit_code = p.unit_code AND b.fiscal_year = p.fiscal_year
    GROUP BY ALL
),
base AS (
    SELECT
        uy.unit_code, uy.fiscal_year, uy.unit_name,
        st.in_service, st.authorized,
        coalesce(sp.spent, 0) AS spent,
        coalesce(sp.three_public_spent, 0) AS three_public_spent,
        coalesce(pf.spent, 0) AS public_funds_spent,
        coalesce(b.final, 0) AS final, coalesce(b.initial, 0) AS initial,
        coalesce(b.added, 0) + coalesce(b.cut, 0) + coalesce(b.moved_in, 0) AS adjusted,
        coalesce(b.project_final, 0) AS project_final, coalesce(b.key_final, 0) AS key_final,
        coalesce(b.public_funds_final, 0) AS public_funds_final,
        coalesce(b.three_public_final, 0) AS three_public_final,
        coalesce(b.procurement_budget, 0) AS procurement_budget,
        coalesce(pr.contracts, 0) AS contracts,
        prior.unit_code IS NOT NULL AS has_prior,
        coalesce(psp.three_public_spent, 0) AS prior_three_public,
        bal.booked_this_year IS TRUE AS from_balances, pbal.booked_this_year IS TRUE AS prior_from_balances,
        CASE WHEN bal.booked_this_year THEN bal.balance ELSE coalesce(b.final, 0) - coalesce(sp.spent, 0) END
            AS carryover,
        -- 结转结余变动率: this year's and last year's by one measure, the balances when both
        -- years' vouchers carry the accounts, else final budget − spending for both.
        bal.booked_this_year IS TRUE AND pbal.booked_this_year IS TRUE AS change_from_balances,
        CASE WHEN bal.booked_this_year AND pbal.booked_this_year THEN bal.balance
             ELSE coalesce(b.final, 0) - coalesce(sp.spent, 0) END AS change_carryover,
        CASE WHEN bal.booked_this_year AND pbal.booked_this_year THEN pbal.balance
             ELSE coalesce(pb.final, 0) - coalesce(psp.spent, 0) END AS change_prior_carryover,
        pg.detail AS progress_detail,
        CASE WHEN uy.fiscal_year < year(current_date) THEN 12
             WHEN uy.fiscal_year = year(current_date) THEN month(current_date)
        END AS elapsed_months
    FROM uy
    LEFT JOIN core.fact_staffing st ON st.unit_code = uy.unit_code AND st.fiscal_year = uy.fiscal_year
    LEFT JOIN spend sp ON sp.unit_code = uy.unit_code AND sp.fiscal_year = uy.fiscal_year
    LEFT JOIN public_funds pf ON pf.unit_code = uy.unit_code AND pf.fiscal_year = uy.fiscal_year
    LEFT JOIN budget b ON b.unit_code = uy.unit_code AND b.fiscal_year = uy.fiscal_year
    LEFT JOIN procurement pr ON pr.unit_code = uy.unit_code AND pr.fiscal_year = uy.fiscal_year
    LEFT JOIN core.dim_unit_year prior ON prior.unit_code = uy.unit_code AND prior.fiscal_year = uy.fiscal_year - 1
    LEFT JOIN spend psp ON psp.unit_code = uy.unit_code AND psp.fiscal_year = uy.fiscal_year - 1
    LEFT JOIN budget pb ON pb.unit_code = uy.unit_code AND pb.fiscal_year = uy.fiscal_year - 1
    LEFT JOIN balances bal ON bal.unit_code = uy.unit_code AND bal.fiscal_year = uy.fiscal_year
    LEFT JOIN balances pbal ON pbal.unit_code = uy.unit_code AND pbal.fiscal_year = uy.fiscal_year - 1
    LEFT JOIN progress pg ON pg.unit_code = uy.unit_code AND pg.fiscal_year = uy.fiscal_year
),
-- One row an indicator: numerator, denominator and of_months, the rate being numerator /
-- (denominator × of_months / 12). of_months is 12 but for 支付进度率, whose denominator is the
-- final budget over the months elapsed; kept apart so that the rate stays an exact ratio of
-- DECIMALs (final budget × 5 / 12 has no exact DECIMAL: twelfths do not terminate).
rows AS (
    -- 53号: 在职人员控制率 = 在职人员数 / 编制数
    SELECT unit_code, fiscal_year, unit_name, 1 AS indicator_order, 'staff_control' AS indicator_code,
        '在职人员控制率' AS indicator_name, in_service::DECIMAL(18, 2) AS numerator, authorized::DECIMAL(18, 2) AS denominator,
        '在职人员控制率 = 实有在职人数 / 编制数' AS formula,
        CASE WHEN authorized IS NULL THEN '无人员情况数据 / no staffing data'
             WHEN authorized = 0 THEN '编制数为0 / no authorized posts' END AS reason,
        12 AS of_months
    FROM base
    UNION ALL
    -- 53号: “三公经费”变动率 = （本年度“三公经费”总额 - 上年度“三公经费”总额）/ 上年度“三公经费”总额
    SELECT unit_code, fiscal_year, unit_name, 2, 'three_public_change', '“三公经费”变动率',
        CASE WHEN has_prior THEN three_public_spent - prior_three_public END, CASE WHEN has_prior THEN prior_three_public END,
        '“三公经费”变动率 = （本年度“三公经费”总额 - 上年度“三公经费”总额）/ 上年度“三公经费”总额',
        CASE WHEN NOT has_prior THEN '无上年数据 / no prior year in the warehouse'
             WHEN prior_three_public = 0 THEN '上年度“三公经费”为0 / prior-year 三公 spending is zero' END, 12
    FROM base
    UNION ALL
    -- 53号: 重点支出安排率 = 重点项目支出 / 项目总支出, both "年度预算安排的" (amounts budgeted):
    -- final budget of the key projects (是否重点项目 = 是) / final budget of project spending.
    SELECT unit_code, fiscal_year, unit_name, 3, 'key_spending_share', '重点支出安排率', key_final, project_final,
        '重点支出安排率 = 重点项目全年预算数 / 项目支出全年预算数（财预〔2013〕53号：年度预算安排的重点项目支出 / 项目总支出）',
        CASE WHEN project_final = 0 THEN '无项目支出预算 / no project budget' END, 12
    FROM base
    UNION ALL
    -- 53号: 预算完成率 = 预算完成数 / 预算数
    SELECT unit_code, fiscal_year, unit_name, 4, 'budget_completion', '预算完成率', spent, final,
        '预算完成率 = 预算完成数（全年支出合计，全部7xxx支出科目）/ 预算数（全年预算数）',
        CASE WHEN final = 0 THEN '全年预算数为0 / final budget is zero' END, 12
    FROM base
    UNION ALL
    -- 53号: 预算调整率 = 预算调整数 / 预算数; 预算调整数 = 追加、追减或结构调整的资金总和
    SELECT unit_code, fiscal_year, unit_name, 5, 'budget_adjustment', '预算调整率', adjusted, initial,
        '预算调整率 = 预算调整数 / 年初预算数，预算调整数 = 追加 + |追减| + 调剂调入（财预〔2013〕53号：追加、追减或结构调整的资金总和；上年结转不是调整）',
        CASE WHEN initial = 0 THEN '年初预算数为0 / initial budget is zero' END, 12
    FROM base
    UNION ALL
    -- 53号: 支付进度率 = 实际支付进度 / 既定支付进度. The value is the contract's (domain.md): spending
    -- to date / (final budget x elapsed months / 12), a closed year having 12; the payments at the
    -- rules file's checkpoints (e.g. 30 June, 30 September) are shown beside it in `formula`.
    SELECT unit_code, fiscal_year, unit_name, 6, 'payment_progress', '支付进度率', spent,
        CASE WHEN elapsed_months IS NOT NULL THEN final END,
        '支付进度率 = 实际支付进度 / 既定支付进度 = 累计支出 / （全年预算数 × 已过月数 / 12）'
            || coalesce('；考核时点：' || progress_detail, ''),
        CASE WHEN elapsed_months IS NULL THEN '年度尚未开始 / the year has not begun'
             WHEN final = 0 THEN '全年预算数为0 / final budget is zero' END,
        elapsed_months
    FROM base
    UNION ALL
    -- 53号: 结转结余率 = 结转结余总额 / 预算数
    SELECT unit_code, fiscal_year, unit_name, 7, 'carryover_rate', '结转结余率', carryover, final,
        '结转结余率 = 结转结余总额 / 全年预算数，结转结余总额 = '
            || CASE WHEN from_balances THEN '凭证中8101、8102、8201、8202科目的年末贷方余额'
                    ELSE '全年预算数 - 全年支出（凭证未记结转结余科目）' END,
        CASE WHEN final = 0 THEN '全年预算数为0 / final budget is zero' END, 12
    FROM base
    UNION ALL
    -- 53号: 结转结余变动率 = （本年度累计结转结余资金总额 - 上年度累计结转结余资金总额）/ 上年度累计结转结余资金总额
    -- Both years by one measure (see base): a balance against a budget − spending figure is no change.
    SELECT unit_code, fiscal_year, unit_name, 8, 'carryover_change', '结转结余变动率',
        CASE WHEN has_prior THEN change_carryover - change_prior_carryover END,
        CASE WHEN has_prior THEN change_prior_carryover END,
        '结转结余变动率 = （本年度累计结转结余资金总额 - 上年度累计结转结余资金总额）/ 上年度累计结转结余资金总额，结转结余'
            || CASE WHEN NOT has_prior AND from_balances THEN ' = 凭证中8101、8102、8201、8202科目的年末贷方余额'
                    WHEN NOT has_prior THEN ' = 全年预算数 - 全年支出（凭证未记结转结余科目）'
                    WHEN change_from_balances THEN '：本年和上年均取凭证中8101、8102、8201、8202科目的年末贷方余额'
                    WHEN from_balances OR prior_from_balances
                        THEN '：本年和上年均取全年预算数 - 全年支出（只有一年的凭证记了结转结余科目，两年按同一口径比较）'
                    ELSE '：本年和上年均取全年预算数 - 全年支出（凭证未记结转结余科目）' END,
        CASE WHEN NOT has_prior THEN '无上年数据 / no prior year in the warehouse'
             WHEN change_prior_carryover = 0 THEN '上年度结转结余为0 / prior-year carry-over is zero' END, 12
    FROM base
    UNION ALL
    -- 53号: 公用经费控制率 = 实际支出公用经费总额 / 预算安排公用经费总额
    SELECT unit_code, fiscal_year, unit_name, 9, 'public_funds_control', '公用经费控制率',
        public_funds_spent, public_funds_final,
        '公用经费控制率 = 实际支出公用经费总额 / 预算安排公用经费总额，公用经费 = 基本支出中301、303以外的部分（含一般设备购置）',
        CASE WHEN public_funds_final = 0 THEN '无公用经费预算 / no 公用经费 budget' END, 12
    FROM base
    UNION ALL
    -- 53号: “三公经费”控制率 = “三公经费”实际支出数 / “三公经费”预算安排数
    SELECT unit_code, fiscal_year, unit_name, 10, 'three_public_control', '“三公经费”控制率', three_public_spent, three_public_final,
        '“三公经费”控制率 = “三公经费”实际支出数 / “三公经费”预算安排数',
        CASE WHEN three_public_final = 0 THEN '无“三公经费”预算 / no 三公 budget' END, 12
    FROM base
    UNION ALL
    -- 53号: 政府采购执行率 = 实际政府采购金额 / 政府采购预算数
    SELECT unit_code, fiscal_year, unit_name, 11, 'procurement_execution', '政府采购执行率', contracts, procurement_budget,
        '政府采购执行率 = 实际政府采购金额 / 政府采购预算数',
        CASE WHEN procurement_budget = 0 THEN '无政府采购预算 / no procurement budget' END, 12
    FROM base
),
-- The rate as an exact ratio of DECIMALs, exact_num / exact_den = numerator × 12 /
-- (denominator × of_months), the sign carried on the numerator so that exact_den > 0: "rate ≥
-- t" is exact_num ≥ t × exact_den, with the rules file's threshold t a DECIMAL too. A rate
-- exactly at its threshold meets it (900,000.45 / 1,000,000.50 is 0.9, where DOUBLE division
-- gives 0.8999999999999999).
valued AS (
    SELECT r.*,
        CASE WHEN r.reason IS NULL AND r.denominator <> 0 THEN
            CASE WHEN r.denominator < 0 THEN -r.numerator ELSE r.numerator END * 12 END AS exact_num,
        abs(r.denominator) * r.of_months AS exact_den
    FROM rows r
)
SELECT
    v.fiscal_year, v.unit_code, v.unit_name, v.indicator_code, v.indicator_name,
    -- DOUBLE, as the contract's columns have it: the exact ratio to 18 decimals (integer
    -- division of the amounts in fen), then DOUBLE, so that a rate of exactly 0.9 reads 0.9.
    CASE WHEN v.exact_num IS NOT NULL
         THEN ((v.exact_num * 100)::HUGEINT * 1000000000000000000 // (v.exact_den * 100)::HUGEINT)::DOUBLE / 1e18
    END AS value,
    v.numerator::DECIMAL(18, 2) AS numerator,
    -- 支付进度率 of a running year: the final budget over the months elapsed, to the fen.
    CASE WHEN v.of_months = 12 THEN v.denominator::DECIMAL(18, 2)
         ELSE (v.denominator * v.of_months / 12)::DECIMAL(18, 2) END AS denominator,
    v.formula,
    CASE WHEN s.op IS NULL THEN '（仅报告）'
         WHEN s.op = 'between' THEN CAST(round(s.threshold::DOUBLE * 100, 2) AS VARCHAR) || '%～'
                                    || CAST(round(s.threshold_high::DOUBLE * 100, 2) AS VARCHAR) || '%（含）'
         ELSE replace(replace(s.op, '<=', '≤'), '>=', '≥') || CAST(round(s.threshold::DOUBLE * 100, 2) AS VARCHAR) || '%'
    END AS standard,
    -- The one verdict: the 自评报告's table and sentences read this column (figures.py); nothing else judges it.
    CASE WHEN s.op IS NULL OR v.exact_num IS NULL THEN NULL
         WHEN s.op = 'between' THEN v.exact_num::DECIMAL(38, 8) BETWEEN s.threshold * v.exact_den
                                                                 AND s.threshold_high * v.exact_den
         WHEN s.op = '<=' THEN v.exact_num::DECIMAL(38, 8) <= s.threshold * v.exact_den
         WHEN s.op = '>=' THEN v.exact_num::DECIMAL(38, 8) >= s.threshold * v.exact_den
         WHEN s.op = '<' THEN v.exact_num::DECIMAL(38, 8) < s.threshold * v.exact_den
         WHEN s.op = '>' THEN v.exact_num::DECIMAL(38, 8) > s.threshold * v.exact_den
         ELSE v.exact_num::DECIMAL(38, 8) = s.threshold * v.exact_den
    END AS meets_standard,
    CASE WHEN v.reason IS NULL AND v.denominator = 0 THEN '分母为0 / denominator is zero' ELSE v.reason END AS reason,
    v.indicator_order
FROM valued v
LEFT JOIN _standards s ON s.indicator_code = v.indicator_code
