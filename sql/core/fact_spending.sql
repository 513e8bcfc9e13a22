-- core.fact_spending: one row per budget-accounting expenditure line (accounts 7xxx) that
-- passed every check and comes from a file that counts. amount = debit - credit, so a
-- red-letter reversal nets out. Financial-accounting lines (5xxx) are never spending.
SELECT
    v.unit_code, v.fiscal_year, v.voucher_date, v.voucher_no, v.line_no, v.summary,
    v.account_code,
    CASE WHEN v.project_code IS NULL THEN '基本支出' ELSE '项目支出' END AS spending_type,
    v.project_code, v.econ_code, v.func_code, v.fund_source, v.amount,
    v.source_id, v.source_file, v.source_row
FROM staging.voucher_lines v
JOIN meta.slices a
  ON a.source_id = v.source_id AND a.unit_code = v.unit_code AND a.fiscal_year = v.fiscal_year AND a.status = 'active'
JOIN _scope s ON s.unit_code = v.unit_code AND s.fiscal_year = v.fiscal_year
WHERE v.reject_code IS NULL AND v.is_spending
