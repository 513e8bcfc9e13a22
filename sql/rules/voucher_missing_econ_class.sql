-- voucher_missing_econ_class: budget-accounting expenditure lines (7xxx) without an
-- economic class. The loader quarantines them (missing_required); an accepted spending
-- line without one would be a loader bug and is listed too.
SELECT
    v.unit_code, v.fiscal_year, v.source_file, v.source_row,
    coalesce(json_extract_string(so.headers, '$.econ_class'), '经济分类') AS field,
    '（空）' AS value_provided,
    '支出科目（7xxx）必填的部门经济分类编码（3位或5位）' AS value_expected,
    v.amount AS difference,
    '凭证 ' || v.voucher_no || '，科目 ' || v.account_code AS detail
FROM staging.voucher_lines v
JOIN _scope s ON s.unit_code = v.unit_code AND s.fiscal_year = v.fiscal_year
JOIN meta.slices a
  ON a.source_id = v.source_id AND a.unit_code = v.unit_code AND a.fiscal_year = v.fiscal_year AND a.status = 'active'
JOIN meta.sources so ON so.source_id = v.source_id
WHERE v.is_spending AND v.econ_code IS NULL
  AND (v.reject_code IS NULL
       OR v.reject_code = 'missing_required' AND v.voucher_date IS NOT NULL AND v.voucher_no IS NOT NULL)
