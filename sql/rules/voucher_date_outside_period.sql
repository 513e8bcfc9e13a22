-- voucher_date_outside_period: lines quarantined as date_out_of_range — a voucher date
-- outside the period on the file's title line, before 2000-01-01 or more than a year
-- ahead. Such a line has no (unit, year) slice of its own: it is reported under the
-- file's counting slice of the same unit nearest to the line's year.
-- difference = days outside the allowed period (negative: before its start).
WITH r AS (
    SELECT v.source_id, v.source_file, v.source_row, v.unit_code, v.voucher_date, v.voucher_no, so.headers,
           greatest(DATE '2000-01-01', coalesce(so.title_period_start, DATE '2000-01-01')) AS lower_bound,
           least((current_date + INTERVAL 1 YEAR)::DATE, coalesce(so.title_period_end, DATE '9999-12-31')) AS upper_bound
    FROM staging.voucher_lines v
    JOIN meta.sources so ON so.source_id = v.source_id
    WHERE v.reject_code = 'date_out_of_range'
)
SELECT
    r.unit_code, a.fiscal_year, r.source_file, r.source_row,
    coalesce(json_extract_string(r.headers, '$.voucher_date'), '凭证日期') AS field,
    strftime(r.voucher_date, '%Y-%m-%d') AS value_provided,
    strftime(r.lower_bound, '%Y-%m-%d') || ' 至 ' || strftime(r.upper_bound, '%Y-%m-%d') AS value_expected,
    CASE WHEN r.voucher_date < r.lower_bound THEN date_diff('day', r.lower_bound, r.voucher_date)
         ELSE date_diff('day', r.upper_bound, r.voucher_date) END::DECIMAL(18, 2) AS difference,
    '凭证 ' || r.voucher_no AS detail
FROM r
JOIN meta.slices a ON a.source_id = r.source_id AND a.unit_code = r.unit_code AND a.status = 'active'
JOIN _scope s ON s.unit_code = a.unit_code AND s.fiscal_year = a.fiscal_year
QUALIFY row_number() OVER (
    PARTITION BY r.source_id, r.source_row ORDER BY abs(a.fiscal_year - year(r.voucher_date)), a.fiscal_year) = 1
