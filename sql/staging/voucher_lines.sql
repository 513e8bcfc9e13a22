-- staging.voucher_lines: every data row of raw.voucher_lines in the batch, typed, with the
-- first row check it fails (reject_code / reject_reason; NULL when it passes).
-- Spending is budget accounting: accounts 7xxx, amount = debit - credit (domain.md).
WITH src AS (
    SELECT r.*, s.scale, s.scaled_columns, s.title_unit_code, s.title_unit_name,
           s.title_period_start, s.title_period_end
    FROM raw.voucher_lines r
    JOIN meta.sources s USING (source_id)
    WHERE r.row_kind = 'data' AND r.source_id IN (SELECT source_id FROM _batch)
),
p AS (
    SELECT
        source_id, source_file, sheet, source_row,
        coalesce(fw_id(unit_code), title_unit_code) AS unit_code,
        coalesce(fw_text(unit_name), title_unit_name) AS unit_name,
        fw_date(voucher_date) AS voucher_date,
        fw_text(voucher_date) AS voucher_date_text,
        fw_text(voucher_no) AS voucher_no,
        fw_text(line_no) AS line_no,
        fw_text(summary) AS summary,
        fw_code(account_code) AS account_code,
        fw_text(account_code) AS account_code_text,
        coalesce(fw_text(account_name), fw_code_name(account_code)) AS account_name,
        fw_amount(debit, CASE WHEN contains(coalesce(scaled_columns, ''), '"debit"') THEN 10000 ELSE scale END) AS debit,
        fw_text(debit) AS debit_text,
        fw_amount(credit, CASE WHEN contains(coalesce(scaled_columns, ''), '"credit"') THEN 10000 ELSE scale END) AS credit,
        fw_text(credit) AS credit_text,
        fw_code(func_class) AS func_code,
        fw_code_name(func_class) AS func_name_given,
        fw_text(func_class) AS func_text,
        fw_code(econ_class) AS econ_code,
        fw_code_name(econ_class) AS econ_name_given,
        fw_text(econ_class) AS econ_text,
        fw_project_code(project_code) AS project_code,
        fw_project_name(project_code) AS project_name_given,
        fw_fund_source(fund_source) AS fund_source,
        fw_text(payment_method) AS payment_method,
        title_period_start, title_period_end,
        contains(concat_ws('|', unit_code, unit_name, voucher_date, voucher_no, summary, account_code, account_name,
                           debit, credit, func_class, econ_class, project_code, fund_source), chr(65533)) AS bad_text
    FROM src
),
c AS (
    SELECT p.*,
        year(voucher_date)::INTEGER AS fiscal_year,
        CASE WHEN left(account_code, 1) IN ('6', '7', '8') THEN 'budget' ELSE 'financial' END AS book,
        left(account_code, 1) = '7' AS is_spending,
        econ_code IS NULL OR EXISTS (
            SELECT 1 FROM ref.econ_class e
            WHERE e.code = p.econ_code AND year(p.voucher_date) BETWEEN e.valid_from AND coalesce(e.valid_to, 9999)
        ) AS econ_known,
        func_code IS NULL OR EXISTS (
            SELECT 1 FROM ref.func_class f
            WHERE f.code = p.func_code AND year(p.voucher_date) BETWEEN f.valid_from AND coalesce(f.valid_to, 9999)
        ) AS func_known
    FROM p
)
SELECT
    source_id, source_file, sheet, source_row,
    unit_code, unit_name, voucher_date, fiscal_year, voucher_no, line_no, summary,
    account_code, account_name, book, is_spending,
    debit, credit, (debit - credit)::DECIMAL(18, 2) AS amount,
    func_code, func_name_given, econ_code, econ_name_given,
    project_code, project_name_given, fund_source, payment_method,
    CASE
        WHEN bad_text THEN 'unreadable_text'
        WHEN unit_code IS NULL THEN 'missing_required'
        WHEN account_code_text IS NULL THEN 'missing_required'
        WHEN voucher_date_text IS NULL THEN 'missing_required'
        WHEN voucher_no IS NULL THEN 'missing_required'
        WHEN account_code IS NULL THEN 'missing_required'
        WHEN voucher_date IS NULL THEN 'unreadable_date'
        WHEN debit IS NULL OR credit IS NULL THEN 'unreadable_amount'
        WHEN voucher_date < DATE '2000-01-01' OR voucher_date > current_date + INTERVAL 1 YEAR
          OR voucher_date NOT BETWEEN coalesce(title_period_start, voucher_date) AND coalesce(title_period_end, voucher_date)
            THEN 'date_out_of_range'
        WHEN is_spending AND econ_text IS NULL THEN 'missing_required'
        WHEN NOT econ_known OR (econ_text IS NOT NULL AND econ_code IS NULL) THEN 'unknown_econ_code'
        WHEN NOT func_known OR (func_text IS NOT NULL AND func_code IS NULL) THEN 'unknown_func_code'
    END AS reject_code,
    CASE
        WHEN bad_text THEN '含无法解码的字符（文件编码有误） / text with undecodable bytes'
        WHEN unit_code IS NULL THEN '缺少单位编码（无单位编码列，标题行也未注明单位） / no unit code'
        WHEN account_code_text IS NULL THEN '缺少科目编码 / account code missing'
        WHEN voucher_date_text IS NULL THEN '缺少凭证日期 / voucher date missing'
        WHEN voucher_no IS NULL THEN '缺少凭证号 / voucher number missing'
        WHEN account_code IS NULL THEN '科目编码缺失（只有名称，没有编码） / account code missing: ' || account_code_text
        WHEN voucher_date IS NULL THEN '无法识别的凭证日期 / unreadable voucher date: ' || voucher_date_text
        WHEN debit IS NULL THEN '无法识别的借方金额 / unreadable debit amount: ' || debit_text
        WHEN credit IS NULL THEN '无法识别的贷方金额 / unreadable credit amount: ' || credit_text
        WHEN voucher_date < DATE '2000-01-01' OR voucher_date > current_date + INTERVAL 1 YEAR
            THEN '凭证日期超出合理范围 / voucher date out of range: ' || voucher_date::VARCHAR
        WHEN voucher_date NOT BETWEEN coalesce(title_period_start, voucher_date) AND coalesce(title_period_end, voucher_date)
            THEN '凭证日期不在文件标题所注期间内 / voucher date ' || voucher_date::VARCHAR || ' outside the file period '
                 || title_period_start::VARCHAR || '..' || title_period_end::VARCHAR
        WHEN is_spending AND econ_text IS NULL THEN '支出科目（7xxx）缺少经济分类 / spending line without economic class'
        WHEN NOT econ_known OR (econ_text IS NOT NULL AND econ_code IS NULL)
            THEN '经济分类编码不在' || fiscal_year::VARCHAR || '年度科目表中 / unknown economic class: ' || econ_text
        WHEN NOT func_known OR (func_text IS NOT NULL AND func_code IS NULL)
            THEN '功能分类编码不在' || fiscal_year::VARCHAR || '年度科目表中 / unknown functional class: ' || func_text
    END AS reject_reason
FROM c
