-- core.fact_spending: one row per budget-accounting expenditure line (accounts 7xxx) that
-- passed every check and comes from a file that counts. amount = debit - credit, so a
-- red-letter reversal nets out. Financial-accounting lines (5xxx) are never spending.
-- Spending type (contract 2.1, changed 2026-11-29), the one place it is decided: on 7101
-- 行政支出 / 7201 事业支出 a line with a project code is 项目支出, without one 基本支出; every
-- other expenditure account is its own type, whatever project code it carries (the 决算
-- shows them apart): 7301 经营支出, 7401 上缴上级支出, 7501 对附属单位补助支出, 7601 投资支出,
-- 7701 债务还本支出, 7901 (and any other 7xxx) 其他支出. Sub-accounts (710101 …) follow
-- their parent.
WITH ledger_names AS (  -- project names of the unit's ledgers, those that are no code of them
    SELECT l.unit_code, l.fiscal_year, l.project_name, l.project_code, l.disclosure
    FROM staging.ledger_projects l
    JOIN meta.slices a
      ON a.source_id = l.source_id AND a.unit_code = l.unit_code AND a.fiscal_year = l.fiscal_year AND a.status = 'active'
    WHERE l.reject_code IS NULL AND l.project_name IS NOT NULL
      AND l.project_name NOT IN (
          SELECT c.project_code FROM staging.ledger_projects c WHERE c.unit_code = l.unit_code AND c.project_code IS NOT NULL)
)
SELECT
    v.unit_code, v.fiscal_year, v.voucher_date, v.voucher_no, v.line_no, v.summary,
    v.account_code,
    CASE
        WHEN left(v.account_code, 2) IN ('71', '72') THEN
            CASE WHEN v.project_code IS NULL THEN '基本支出' ELSE '项目支出' END
        WHEN left(v.account_code, 2) = '73' THEN '经营支出'
        WHEN left(v.account_code, 2) = '74' THEN '上缴上级支出'
        WHEN left(v.account_code, 2) = '75' THEN '对附属单位补助支出'
        WHEN left(v.account_code, 2) = '76' THEN '投资支出'
        WHEN left(v.account_code, 2) = '77' THEN '债务还本支出'
        ELSE '其他支出'
    END AS spending_type,
    coalesce(same_year.project_code, any_year.project_code, v.project_code) AS project_code,
    v.econ_code, v.func_code, v.fund_source, v.amount,
    v.source_id, v.source_file, v.source_row
FROM staging.voucher_lines v
JOIN meta.slices a
  ON a.source_id = v.source_id AND a.unit_code = v.unit_code AND a.fiscal_year = v.fiscal_year AND a.status = 'active'
JOIN _scope s ON s.unit_code = v.unit_code AND s.fiscal_year = v.fiscal_year
-- A 项目 cell holding only a project's NAME (no code) is that project of the unit's
-- ledger: that year's ledger first, else the latest year's; among projects of the same
-- name a 涉密 one wins (its spending must not be published under its name). A cell that
-- is a code of the unit's ledgers is a code, whatever names say.
LEFT JOIN (
    SELECT unit_code, fiscal_year, project_name,
           arg_min(project_code, (disclosure <> '涉密', project_code)) AS project_code
    FROM ledger_names GROUP BY ALL
) same_year ON same_year.unit_code = v.unit_code AND same_year.fiscal_year = v.fiscal_year
           AND same_year.project_name = v.project_code
LEFT JOIN (
    SELECT unit_code, project_name,
           arg_min(project_code, (disclosure <> '涉密', -fiscal_year, project_code)) AS project_code
    FROM ledger_names GROUP BY ALL
) any_year ON any_year.unit_code = v.unit_code AND any_year.project_name = v.project_code
WHERE v.reject_code IS NULL AND v.is_spending
