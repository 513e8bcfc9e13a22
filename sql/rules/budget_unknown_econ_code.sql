-- budget_unknown_econ_code: budget lines quarantined because their 经济分类 code is not in the 部门预算支出经济分类
-- valid in the budget year. difference = the amount left out of the budget.
SELECT
    b.unit_code, b.fiscal_year, b.source_file, b.source_row,
    coalesce(json_extract_string(so.headers, '$.econ_class'), '经济分类') AS field,
    coalesce(trim(r.econ_class), '（空）') AS value_provided,
    b.fiscal_year::VARCHAR || '年度部门预算支出经济分类中的编码' AS value_expected,
    b.amount AS difference,
    concat_ws('，', '指标类型 ' || b.budget_kind, '项目 ' || b.project_code) AS detail
FROM staging.budget_lines b
JOIN _scope s ON s.unit_code = b.unit_code AND s.fiscal_year = b.fiscal_year
JOIN meta.slices a
  ON a.source_id = b.source_id AND a.unit_code = b.unit_code AND a.fiscal_year = b.fiscal_year AND a.status = 'active'
JOIN meta.sources so ON so.source_id = b.source_id
JOIN raw.budget_lines r ON r.source_id = b.source_id AND r.source_row = b.source_row
WHERE b.reject_code = 'unknown_econ_code'
