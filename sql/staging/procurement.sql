-- staging.procurement: government procurement contracts (政府采购台账) typed and checked.
-- The fiscal year is the 年度 column, else the year the contract was signed. 签订日期 is a
-- transaction date, range-checked as a voucher's date is (fw_date_range_reject): before
-- 2000-01-01, after today + 1 year, or outside the period on the file's title line, it is
-- date_out_of_range (contract 2). An empty
-- 合同金额 is 0.00, as `-` is (contract 2: "`-` or empty for zero"; missing_required names
-- the budget line's amount only).
WITH src AS (
    SELECT r.*, s.scale, s.scaled_columns, s.title_unit_code, s.title_unit_name, s.title_fiscal_year,
           s.title_period_start, s.title_period_end
    FROM raw.procurement__rows r
    JOIN meta.sources s USING (source_key)
    WHERE r.row_kind = 'data' AND r.source_key IN (SELECT source_key FROM _batch)
),
p AS (
    SELECT
        source_key, source_row,
        fw_row_unit_code(unit_code, title_unit_code) AS unit_code,
        coalesce(fw_text(unit_name), title_unit_name) AS unit_name,
        fw_text(fiscal_year) AS fiscal_year_text,
        fw_integer(fiscal_year) AS fiscal_year_given,
        fw_project_code(project_code) AS project_code,
        fw_text(contract_no) AS contract_no,
        fw_text(method) AS method,
        fw_amount(contract_amount,
                  fw_column_scale(scaled_columns, 'contract_amount', scale))
            AS contract_amount,
        fw_text(contract_amount) AS amount_text,
        fw_date(date) AS signed_on,
        fw_text(date) AS date_text,
        title_fiscal_year, title_period_start, title_period_end,
        -- the cells as read, for the reject's value
        unit_code AS unit_code_raw, fiscal_year AS fiscal_year_raw, contract_amount AS amount_raw, date AS date_raw
    FROM src
),
y AS (
    SELECT p.*, coalesce(fiscal_year_given, year(signed_on), title_fiscal_year) AS year_read,
        fw_date_range_reject('date', date_raw, signed_on, title_period_start, title_period_end, '签订日期', 'date')
            AS date_reject
    FROM p
),
checked AS (
    SELECT y.*,
        CASE
            WHEN unit_code IS NULL THEN fw_reject('missing_required', 'unit_code', unit_code_raw,
                '缺少单位编码 / unit code missing')
            WHEN year_read IS NULL AND fiscal_year_text IS NULL AND date_text IS NULL THEN fw_reject('missing_required',
                'fiscal_year', fiscal_year_raw, '缺少年度和签订日期 / fiscal year and date missing')
            WHEN date_text IS NOT NULL AND signed_on IS NULL THEN fw_reject('unreadable_date', 'date', date_raw,
                '无法识别的签订日期 / unreadable date: ' || date_text)
            -- the year is the 年度 cell, else the date's year: the field is the one the year came from
            WHEN year_read NOT BETWEEN 2000 AND year(current_date) + 1
              OR fiscal_year_text IS NOT NULL AND fiscal_year_given IS NULL
                THEN fw_reject('unreadable_year',
                    CASE WHEN fiscal_year_text IS NULL AND signed_on IS NOT NULL THEN 'date' ELSE 'fiscal_year' END,
                    CASE WHEN fiscal_year_text IS NULL AND signed_on IS NOT NULL THEN date_raw ELSE fiscal_year_raw END,
                    '无法识别的年度 / unreadable fiscal year: ' || coalesce(fiscal_year_text, ''))
            WHEN contract_amount IS NULL THEN fw_reject('unreadable_amount', 'contract_amount', amount_raw,
                '无法识别的合同金额 / unreadable contract amount: ' || amount_text)
            WHEN date_reject IS NOT NULL THEN date_reject
        END AS reject
    FROM y
)
SELECT
    source_key, source_row,
    unit_code, unit_name,
    year_read::INTEGER AS fiscal_year,
    project_code, contract_no, method, contract_amount, signed_on,
    reject.code AS reject_code, reject.field AS reject_field, reject.value AS reject_value, reject.reason AS reject_reason
FROM checked
