-- core.fact_budget: budget lines that count, signed as they add to the final budget
-- (追减 negative, 调剂 as written); basic budget when no project code.
SELECT
    b.unit_code, b.fiscal_year, b.doc_no, b.budget_kind,
    CASE WHEN b.project_code IS NULL THEN '基本支出' ELSE '项目支出' END AS spending_type,
    b.project_code, b.econ_code, b.func_code, b.fund_source, b.amount, b.procurement_amount,
    b.source_id, b.source_file, b.source_row
FROM staging.budget_lines b
JOIN meta.slices a
  ON a.source_id = b.source_id AND a.unit_code = b.unit_code AND a.fiscal_year = b.fiscal_year AND a.status = 'active'
JOIN _scope s ON s.unit_code = b.unit_code AND s.fiscal_year = b.fiscal_year
WHERE b.reject_code IS NULL
