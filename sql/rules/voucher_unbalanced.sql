-- voucher_unbalanced: vouchers that do not balance within one book, among the lines that
-- passed the row checks (the loader quarantined them as unbalanced_voucher). One row per
-- voucher and book, on the voucher's first line in the file.
SELECT
    v.unit_code, v.fiscal_year, v.source_file, min(v.source_row) AS source_row,
    CASE v.book WHEN 'budget' THEN '借方金额/贷方金额（预算会计 6xxx/7xxx/8xxx）'
                ELSE '借方金额/贷方金额（财务会计）' END AS field,
    '借方合计 ' || sum(v.debit)::VARCHAR || '，贷方合计 ' || sum(v.credit)::VARCHAR AS value_provided,
    '借方合计 = 贷方合计' AS value_expected,
    (sum(v.debit) - sum(v.credit))::DECIMAL(18, 2) AS difference,
    '凭证 ' || v.voucher_no || '（' || strftime(v.voucher_date, '%Y-%m-%d') || '，' || count(*)::VARCHAR || ' 行）' AS detail
FROM staging.voucher_lines v
JOIN _scope s ON s.unit_code = v.unit_code AND s.fiscal_year = v.fiscal_year
JOIN meta.slices a
  ON a.source_id = v.source_id AND a.unit_code = v.unit_code AND a.fiscal_year = v.fiscal_year AND a.status = 'active'
WHERE v.reject_code = 'unbalanced_voucher'
GROUP BY v.source_id, v.source_file, v.unit_code, v.fiscal_year, v.voucher_date, v.voucher_no, v.book
HAVING sum(v.debit) <> sum(v.credit)
