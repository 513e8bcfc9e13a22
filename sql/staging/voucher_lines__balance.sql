-- staging.voucher_lines, second step: per voucher (unit, date, number) and per book
-- (budget: 6xxx/7xxx/8xxx; financial: the rest), the lines that passed the row checks
-- must balance. If they do not, all of them are rejected and none of the spending counts.
-- Vouchers are checked within one source file: the same voucher in two overlapping
-- exports is two copies, each of which must balance on its own.
-- The field of such a line is the side it is booked on (debit, else credit), its value
-- that cell as written; the reason gives the voucher's totals.
UPDATE staging.voucher_lines__rows AS v
SET reject_code = 'unbalanced_voucher',
    reject_field = CASE WHEN v.debit <> 0 OR v.credit = 0 THEN 'debit' ELSE 'credit' END,
    reject_value = CASE WHEN v.debit <> 0 OR v.credit = 0 THEN r.debit ELSE r.credit END,
    reject_reason = '凭证借贷不平衡（' || CASE u.book WHEN 'budget' THEN '预算会计' ELSE '财务会计' END
        || '）：借方合计 ' || u.total_debit::VARCHAR || '，贷方合计 ' || u.total_credit::VARCHAR
        || ' / unbalanced voucher ' || u.voucher_no || ' (' || u.book || ' book): debit '
        || u.total_debit::VARCHAR || ' vs credit ' || u.total_credit::VARCHAR
FROM (
    SELECT source_key, unit_code, voucher_date, voucher_no, book,
           sum(debit) AS total_debit, sum(credit) AS total_credit
    FROM staging.voucher_lines__rows
    WHERE reject_code IS NULL AND source_key IN (SELECT source_key FROM _batch)
    GROUP BY ALL
    HAVING sum(debit) <> sum(credit)
) AS u, raw.voucher_lines__rows AS r
WHERE v.reject_code IS NULL
  AND v.source_key = u.source_key AND v.unit_code = u.unit_code AND v.voucher_date = u.voucher_date
  AND v.voucher_no = u.voucher_no AND v.book = u.book
  AND r.source_key = v.source_key AND r.source_row = v.source_row;
