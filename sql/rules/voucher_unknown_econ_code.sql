-- voucher_unknown_econ_code: voucher lines quarantined because their 经济分类 code is not in the 部门预算支出经济分类
-- valid in the voucher's year. value_provided = the cell as the file wrote it.
SELECT
    v.unit_code, v.fiscal_year, v.source_file, v.source_row,
    coalesce(json_extract_string(so.headers, '$.econ_class'), '经济分类') AS field,
    coalesce(trim(r.econ_class), '（空）') AS value_provided,
    v.fiscal_year::VARCHAR || '年度部门预算支出经济分类中的编码' AS value_expected,
    NULL::DECIMAL(18, 2) AS difference,
    '凭证 ' || v.voucher_no || '，科目 ' || v.account_code AS detail
FROM staging.voucher_lines v
JOIN _scope s ON s.unit_code = v.unit_code AND s.fiscal_year = v.fiscal_year
JOIN meta.slices a
  ON a.source_id = v.source_id AND a.unit_code = v.unit_code AND a.fiscal_year = v.fiscal_year AND a.status = 'active'
JOIN meta.sources so ON so.source_id = v.source_id
JOIN raw.voucher_lines r ON r.source_id = v.source_id AND r.source_row = v.source_row
WHERE v.reject_code = 'unknown_econ_code'
