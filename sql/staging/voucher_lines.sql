-- staging.voucher_lines: every data row of raw.voucher_lines in the batch, typed, with the
-- first row check it fails (reject_code, reject_field, reject_value, reject_reason; NULL when
-- it passes): the field is the column's contract name, the value the cell as the file wrote it.
-- Spending is budget accounting: accounts 7xxx, amount = debit - credit (domain.md).
-- The raw text of a cell is looked at again only for rows whose parsed value is missing
-- (CASE evaluates a branch only for the rows that reach it): this runs on every line.
WITH src AS (
    SELECT r.*, s.scale, s.scaled_columns, s.title_unit_code, s.title_unit_name,
           s.title_period_start, s.title_period_end, s.encoding IS NOT NULL AND s.encoding NOT IN ('utf-8', 'utf-8-sig') AS lossy
    FROM raw.voucher_lines__rows r
    JOIN meta.sources s USING (source_key)
    WHERE r.row_kind = 'data' AND r.source_key IN (SELECT source_key FROM _batch)
),
p AS (
    SELECT
        source_key, source_row,
        fw_row_unit_code(unit_code, title_unit_code) AS unit_code,
        coalesce(fw_text(unit_name), title_unit_name) AS unit_name,
        fw_date(voucher_date) AS voucher_date,
        fw_text(voucher_no) AS voucher_no,
        fw_text(line_no) AS line_no,
        fw_text(summary) AS summary,
        fw_code(account_code) AS account_code,
        CASE WHEN fw_text(account_name) IS NOT NULL THEN fw_text(account_name) ELSE fw_code_name(account_code) END
            AS account_name,
        fw_amount(debit, fw_column_scale(scaled_columns, 'debit', scale)) AS debit,
        fw_amount(credit, fw_column_scale(scaled_columns, 'credit', scale)) AS credit,
        fw_code(func_class) AS func_code,
        fw_code(econ_class) AS econ_code,
        fw_project_code(project_code) AS project_code,
        fw_fund_source(fund_source) AS fund_source,
        fw_text(payment_method) AS payment_method,
        title_period_start, title_period_end,
        -- the cells as read, for the checks and messages below
        unit_code AS unit_code_raw, voucher_no AS voucher_no_raw,
        voucher_date AS voucher_date_raw, account_code AS account_code_raw, debit AS debit_raw, credit AS credit_raw,
        func_class AS func_raw, econ_class AS econ_raw,
        -- a CASE, not `lossy AND …`: AND evaluates both sides, and the concat costs on every line
        CASE WHEN lossy THEN contains(concat_ws('|', unit_code, unit_name, voucher_date, voucher_no, summary, account_code,
                                                account_name, debit, credit, func_class, econ_class, project_code,
                                                fund_source), '�')
             ELSE FALSE END AS bad_text,
        CASE WHEN bad_text THEN fw_undecodable_reject(MAP {
            'unit_code': unit_code, 'unit_name': unit_name, 'voucher_date': voucher_date, 'voucher_no': voucher_no,
            'summary': summary, 'account_code': account_code, 'account_name': account_name, 'debit': debit,
            'credit': credit, 'func_class': func_class, 'econ_class': econ_class, 'project_code': project_code,
            'fund_source': fund_source}) END AS bad_text_reject
    FROM src
),
c AS (
    SELECT p.*,
        year(voucher_date)::INTEGER AS fiscal_year,
        CASE WHEN left(account_code, 1) IN ('6', '7', '8') THEN 'budget' ELSE 'financial' END AS book,
        coalesce(left(account_code, 1) = '7', FALSE) AS is_spending,
        econ_code IS NULL OR e.code IS NOT NULL AS econ_known,
        func_code IS NULL OR f.code IS NOT NULL AS func_known,
        fw_date_range_reject('voucher_date', voucher_date_raw, voucher_date, title_period_start, title_period_end,
                             '凭证日期', 'voucher date') AS date_reject
    FROM p
    -- A code is valid for a year in at most one row of the reference (tests/reference), so
    -- these joins never add rows; as joins rather than EXISTS, DuckDB reads p only once.
    LEFT JOIN ref.econ_class e ON e.code = p.econ_code AND year(p.voucher_date) BETWEEN e.valid_from AND coalesce(e.valid_to, 9999)
    LEFT JOIN ref.func_class f ON f.code = p.func_code AND year(p.voucher_date) BETWEEN f.valid_from AND coalesce(f.valid_to, 9999)
),
checked AS (
    SELECT c.*,
        CASE
            WHEN bad_text THEN bad_text_reject
            WHEN unit_code IS NULL THEN fw_reject('missing_required', 'unit_code', unit_code_raw,
                '缺少单位编码（无单位编码列，标题行也未注明单位） / no unit code')
            WHEN account_code IS NULL AND fw_text(account_code_raw) IS NULL THEN fw_reject('missing_required',
                'account_code', account_code_raw, '缺少科目编码 / account code missing')
            WHEN voucher_date IS NULL AND fw_text(voucher_date_raw) IS NULL THEN fw_reject('missing_required',
                'voucher_date', voucher_date_raw, '缺少凭证日期 / voucher date missing')
            WHEN voucher_no IS NULL THEN fw_reject('missing_required', 'voucher_no', voucher_no_raw,
                '缺少凭证号 / voucher number missing')
            WHEN account_code IS NULL THEN fw_reject('missing_required', 'account_code', account_code_raw,
                '科目编码缺失（只有名称，没有编码） / account code missing: ' || fw_text(account_code_raw))
            WHEN voucher_date IS NULL THEN fw_reject('unreadable_date', 'voucher_date', voucher_date_raw,
                '无法识别的凭证日期 / unreadable voucher date: ' || fw_text(voucher_date_raw))
            WHEN debit IS NULL THEN fw_reject('unreadable_amount', 'debit', debit_raw,
                '无法识别的借方金额 / unreadable debit amount: ' || fw_text(debit_raw))
            WHEN credit IS NULL THEN fw_reject('unreadable_amount', 'credit', credit_raw,
                '无法识别的贷方金额 / unreadable credit amount: ' || fw_text(credit_raw))
            WHEN date_reject IS NOT NULL THEN date_reject
            WHEN is_spending AND econ_code IS NULL AND fw_text(econ_raw) IS NULL THEN fw_reject('missing_required',
                'econ_class', econ_raw, '支出科目（7xxx）缺少经济分类 / spending line without economic class')
            WHEN NOT econ_known OR (econ_code IS NULL AND fw_text(econ_raw) IS NOT NULL) THEN fw_reject('unknown_econ_code',
                'econ_class', econ_raw,
                '经济分类编码不在' || fiscal_year::VARCHAR || '年度科目表中 / unknown economic class: ' || fw_text(econ_raw))
            WHEN NOT func_known OR (func_code IS NULL AND fw_text(func_raw) IS NOT NULL) THEN fw_reject('unknown_func_code',
                'func_class', func_raw,
                '功能分类编码不在' || fiscal_year::VARCHAR || '年度科目表中 / unknown functional class: ' || fw_text(func_raw))
        END AS reject
    FROM c
)
SELECT
    source_key, source_row,
    unit_code, unit_name, voucher_date, fiscal_year, voucher_no, line_no, summary,
    account_code, account_name, book, is_spending,
    debit, credit, (debit - credit)::DECIMAL(18, 2) AS amount,
    func_code, econ_code,
    project_code, fund_source, payment_method,
    reject.code AS reject_code, reject.field AS reject_field, reject.value AS reject_value, reject.reason AS reject_reason
FROM checked
