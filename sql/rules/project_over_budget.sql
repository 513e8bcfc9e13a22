-- project_over_budget: a project's spending in a year above its final budget (a project
-- without budget lines counts as budget 0). From the mart as built.
SELECT
    p.unit_code, p.fiscal_year, NULL::VARCHAR AS source_file, NULL::BIGINT AS source_row,
    '项目支出' AS field,
    p.spent_yuan::VARCHAR AS value_provided,
    '≤ 全年预算数 ' || p.budget_final_yuan::VARCHAR AS value_expected,
    (p.spent_yuan - p.budget_final_yuan)::DECIMAL(18, 2) AS difference,
    '项目 ' || p.project_code || coalesce(' ' || p.project_name, '') AS detail
FROM build.spending_by_project p
JOIN _scope s ON s.unit_code = p.unit_code AND s.fiscal_year = p.fiscal_year
WHERE p.spent_yuan > p.budget_final_yuan
