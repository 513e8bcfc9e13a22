-- core.fact_budget: budget lines that count, signed as they add to the final budget
-- (追减 negative, 调剂 as written); basic budget when no project code. A 项目编码 cell
-- holding only a project's name is that project, as on the vouchers (core.fact_spending).
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
    b.unit_code, b.fiscal_year, b.doc_no, b.budget_kind,
    CASE WHEN b.project_code IS NULL THEN '基本支出' ELSE '项目支出' END AS spending_type,
    coalesce(same_year.project_code, any_year.project_code, b.project_code) AS project_code,
    b.econ_code, b.func_code, b.fund_source, b.amount, b.procurement_amount,
    b.source_id, b.source_file, b.source_row
FROM staging.budget_lines b
JOIN meta.slices a
  ON a.source_id = b.source_id AND a.unit_code = b.unit_code AND a.fiscal_year = b.fiscal_year AND a.status = 'active'
JOIN _scope s ON s.unit_code = b.unit_code AND s.fiscal_year = b.fiscal_year
LEFT JOIN (
    SELECT unit_code, fiscal_year, project_name,
           arg_min(project_code, (disclosure <> '涉密', project_code)) AS project_code
    FROM ledger_names GROUP BY ALL
) same_year ON same_year.unit_code = b.unit_code AND same_year.fiscal_year = b.fiscal_year
           AND same_year.project_name = b.project_code
LEFT JOIN (
    SELECT unit_code, project_name,
           arg_min(project_code, (disclosure <> '涉密', -fiscal_year, project_code)) AS project_code
    FROM ledger_names GROUP BY ALL
) any_year ON any_year.unit_code = b.unit_code AND any_year.project_name = b.project_code
WHERE b.reject_code IS NULL
