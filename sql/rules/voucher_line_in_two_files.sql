-- voucher_line_in_two_files: the same voucher line (unit, date, voucher number, line
-- number, account, debit, credit) accepted in two or more counting sources of one unit
-- and year. Only sources whose periods overlap another counting source's can share a
-- line (a line's date lies inside its file's period), so only those are compared.
-- One row per occurrence; difference = the line's amount (debit - credit).
WITH candidates AS (
    SELECT DISTINCT a.source_id, a.unit_code, a.fiscal_year
    FROM meta.slices a
    JOIN _scope s ON s.unit_code = a.unit_code AND s.fiscal_year = a.fiscal_year
    JOIN meta.slices b
      ON b.kind = 'voucher_lines' AND b.status = 'active' AND b.unit_code = a.unit_code
     AND b.fiscal_year = a.fiscal_year AND b.source_id <> a.source_id
     AND b.period_start <= a.period_end AND a.period_start <= b.period_end
    WHERE a.kind = 'voucher_lines' AND a.status = 'active'
),
lines AS (
    SELECT v.source_id, v.source_file, v.source_row, v.unit_code, v.fiscal_year, v.voucher_date, v.voucher_no,
           coalesce(v.line_no, '') AS line_no, v.account_code, v.debit, v.credit, so.headers
    FROM staging.voucher_lines v
    JOIN candidates c ON c.source_id = v.source_id AND c.unit_code = v.unit_code AND c.fiscal_year = v.fiscal_year
    JOIN meta.sources so ON so.source_id = v.source_id
    WHERE v.reject_code IS NULL
),
shared AS (
    SELECT unit_code, voucher_date, voucher_no, line_no, account_code, debit, credit,
           list(source_file || ':' || source_row::VARCHAR ORDER BY source_file, source_row) AS places
    FROM lines
    GROUP BY ALL
    HAVING count(DISTINCT source_id) > 1
)
SELECT
    l.unit_code, l.fiscal_year, l.source_file, l.source_row,
    coalesce(json_extract_string(l.headers, '$.voucher_no'), '凭证号') AS field,
    l.voucher_no || CASE WHEN l.line_no <> '' THEN ' 第' || l.line_no || '行' ELSE '' END AS value_provided,
    '只在一个计数的文件中出现' AS value_expected,
    (l.debit - l.credit)::DECIMAL(18, 2) AS difference,
    '同一分录也在：' || array_to_string(
        list_filter(d.places, lambda x: x <> l.source_file || ':' || l.source_row::VARCHAR), '；') AS detail
FROM lines l
JOIN shared d
  ON d.unit_code = l.unit_code AND d.voucher_date = l.voucher_date AND d.voucher_no = l.voucher_no
 AND d.line_no = l.line_no AND d.account_code = l.account_code AND d.debit = l.debit AND d.credit = l.credit
