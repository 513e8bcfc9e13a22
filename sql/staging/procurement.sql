-- staging.procurement: government procurement contracts (政府采购台账) typed and checked.
-- The fiscal year is the 年度 column, else the year the contract was signed.
WITH src AS (
    SELECT r.*, s.scale, s.scaled_columns, s.title_unit_code, s.title_unit_name, s.title_fiscal_year
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
                  CASE WHEN contains(coalesce(scaled_columns, ''), '"contract_amount"') THEN 10000 ELSE scale END)
            AS contract_amount,
        fw_text(contract_amount) AS amount_text,
        fw_date(date) AS signed_on,
        fw_text(date) AS date_text,
        title_fiscal_year
    FROM src
)
SELECT
    source_key, source_row,
    unit_code, unit_name,
    coalesce(fiscal_year_given, year(signed_on), title_fiscal_year)::INTEGER AS fiscal_year,
    project_code, contract_no, method, contract_amount, signed_on,
    CASE
        WHEN unit_code IS NULL OR amount_text IS NULL
          OR coalesce(fiscal_year_given, year(signed_on), title_fiscal_year) IS NULL AND fiscal_year_text IS NULL
             AND date_text IS NULL THEN 'missing_required'
        WHEN date_text IS NOT NULL AND signed_on IS NULL THEN 'unreadable_date'
        WHEN coalesce(fiscal_year_given, year(signed_on), title_fiscal_year) NOT BETWEEN 2000 AND year(current_date) + 1
          OR fiscal_year_text IS NOT NULL AND fiscal_year_given IS NULL THEN 'unreadable_year'
        WHEN contract_amount IS NULL THEN 'unreadable_amount'
        WHEN signed_on < DATE '2000-01-01' OR signed_on > current_date + INTERVAL 1 YEAR THEN 'date_out_of_range'
    END AS reject_code,
    CASE
        WHEN unit_code IS NULL THEN '缺少单位编码 / unit code missing'
        WHEN amount_text IS NULL THEN '缺少合同金额 / contract amount missing'
        WHEN coalesce(fiscal_year_given, year(signed_on), title_fiscal_year) IS NULL AND fiscal_year_text IS NULL
             AND date_text IS NULL THEN '缺少年度和签订日期 / fiscal year and date missing'
        WHEN date_text IS NOT NULL AND signed_on IS NULL THEN '无法识别的签订日期 / unreadable date: ' || date_text
        WHEN coalesce(fiscal_year_given, year(signed_on), title_fiscal_year) NOT BETWEEN 2000 AND year(current_date) + 1
          OR fiscal_year_text IS NOT NULL AND fiscal_year_given IS NULL
            THEN '无法识别的年度 / unreadable fiscal year: ' || coalesce(fiscal_year_text, '')
        WHEN contract_amount IS NULL THEN '无法识别的合同金额 / unreadable contract amount: ' || amount_text
        WHEN signed_on < DATE '2000-01-01' OR signed_on > current_date + INTERVAL 1 YEAR
            THEN '签订日期超出合理范围 / date out of range: ' || signed_on::VARCHAR
    END AS reject_reason
FROM p
