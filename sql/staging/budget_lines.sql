-- staging.budget_lines: budget lines (预算指标) typed and checked. `amount` is signed as it
-- counts toward the final budget: 追减 always subtracts (whatever sign is written),
-- 调剂 keeps the sign written (调入 +, 调出 -), everything else as written; procurement_amount
-- (政府采购预算, the part of the amount for procurement) is signed the same way
-- (fw_budget_signed).
WITH src AS (
    SELECT r.*, s.scale, s.scaled_columns, s.title_unit_code, s.title_unit_name, s.title_fiscal_year
    FROM raw.budget_lines__rows r
    JOIN meta.sources s USING (source_key)
    WHERE r.row_kind = 'data' AND r.source_key IN (SELECT source_key FROM _batch)
),
p AS (
    SELECT
        source_key, source_row,
        fw_row_unit_code(unit_code, title_unit_code) AS unit_code,
        coalesce(fw_text(unit_name), title_unit_name) AS unit_name,
        coalesce(fw_integer(fiscal_year), title_fiscal_year)::INTEGER AS fiscal_year,
        fw_text(fiscal_year) AS fiscal_year_text,
        fw_text(doc_no) AS doc_no,
        fw_text(budget_kind) AS budget_kind_text,
        CASE
            WHEN budget_kind_text IS NULL THEN NULL
            WHEN contains(budget_kind_text, '年初') THEN '年初预算'
            WHEN contains(budget_kind_text, '追减') OR contains(budget_kind_text, '调减') THEN '追减'
            WHEN contains(budget_kind_text, '追加') OR contains(budget_kind_text, '调增') THEN '追加'
            WHEN contains(budget_kind_text, '调剂') OR contains(budget_kind_text, '调入')
              OR contains(budget_kind_text, '调出') THEN '调剂'
            WHEN contains(budget_kind_text, '结转') OR contains(budget_kind_text, '结余') THEN '上年结转'
        END AS budget_kind,
        fw_code(func_class) AS func_code,
        fw_code_name(func_class) AS func_name_given,
        fw_text(func_class) AS func_text,
        fw_code(econ_class) AS econ_code,
        fw_code_name(econ_class) AS econ_name_given,
        fw_text(econ_class) AS econ_text,
        fw_project_code(project_code) AS project_code,
        fw_project_name(project_code) AS project_name_given,
        fw_fund_source(fund_source) AS fund_source,
        fw_amount(amount, fw_column_scale(scaled_columns, 'amount', scale)) AS amount_written,
        fw_text(amount) AS amount_text,
        fw_amount(procurement_amount,
                  fw_column_scale(scaled_columns, 'procurement_amount', scale))
            AS procurement_amount,
        fw_text(procurement_amount) AS procurement_text,
        contains(concat_ws('|', unit_code, fiscal_year, doc_no, budget_kind, func_class, econ_class, project_code,
                           fund_source, amount, procurement_amount), '�') AS bad_text,
        CASE WHEN bad_text THEN fw_undecodable_reject(MAP {
            'unit_code': unit_code, 'fiscal_year': fiscal_year, 'doc_no': doc_no, 'budget_kind': budget_kind,
            'func_class': func_class, 'econ_class': econ_class, 'project_code': project_code,
            'fund_source': fund_source, 'amount': amount, 'procurement_amount': procurement_amount}) END AS bad_text_reject,
        -- the cells as read, for the reject's value
        unit_code AS unit_code_raw, fiscal_year AS fiscal_year_raw, budget_kind AS budget_kind_raw,
        func_class AS func_raw, econ_class AS econ_raw, amount AS amount_raw, procurement_amount AS procurement_raw
    FROM src
),
c AS (
    SELECT p.*,
        fw_budget_signed(budget_kind, budget_kind_text, amount_written) AS amount,
        fw_budget_signed(budget_kind, budget_kind_text, procurement_amount) AS procurement_signed,
        econ_code IS NULL OR e.code IS NOT NULL AS econ_known,
        func_code IS NULL OR f.code IS NOT NULL AS func_known
    FROM p
    -- A code is valid for a year in at most one row of the reference (tests/reference), so
    -- these joins never add rows; as joins rather than EXISTS, DuckDB reads p only once.
    LEFT JOIN ref.econ_class e ON e.code = p.econ_code AND p.fiscal_year BETWEEN e.valid_from AND coalesce(e.valid_to, 9999)
    LEFT JOIN ref.func_class f ON f.code = p.func_code AND p.fiscal_year BETWEEN f.valid_from AND coalesce(f.valid_to, 9999)
),
checked AS (
    SELECT c.*,
        CASE
            WHEN bad_text THEN bad_text_reject
            WHEN unit_code IS NULL THEN fw_reject('missing_required', 'unit_code', unit_code_raw,
                '缺少单位编码 / unit code missing')
            WHEN amount_text IS NULL THEN fw_reject('missing_required', 'amount', amount_raw, '缺少金额 / amount missing')
            WHEN fiscal_year_text IS NULL AND fiscal_year IS NULL THEN fw_reject('missing_required', 'fiscal_year',
                fiscal_year_raw, '缺少预算年度 / fiscal year missing')
            WHEN fiscal_year IS NULL OR fiscal_year NOT BETWEEN 2000 AND year(current_date) + 1
                THEN fw_reject('unreadable_year', 'fiscal_year', fiscal_year_raw,
                    '无法识别的预算年度 / unreadable fiscal year: ' || coalesce(fiscal_year_text, ''))
            WHEN amount_written IS NULL THEN fw_reject('unreadable_amount', 'amount', amount_raw,
                '无法识别的金额 / unreadable amount: ' || amount_text)
            WHEN procurement_amount IS NULL THEN fw_reject('unreadable_amount', 'procurement_amount', procurement_raw,
                '无法识别的政府采购预算 / unreadable procurement amount: ' || procurement_text)
            WHEN budget_kind IS NULL THEN fw_reject('unknown_budget_kind', 'budget_kind', budget_kind_raw,
                '无法识别的指标类型 / unknown budget kind: ' || coalesce(budget_kind_text, '（空）')
                || '（应为 年初预算/追加/追减/调剂/上年结转）')
            WHEN NOT econ_known OR (econ_text IS NOT NULL AND econ_code IS NULL) THEN fw_reject('unknown_econ_code',
                'econ_class', econ_raw,
                '经济分类编码不在' || fiscal_year::VARCHAR || '年度科目表中 / unknown economic class: ' || econ_text)
            WHEN NOT func_known OR (func_text IS NOT NULL AND func_code IS NULL) THEN fw_reject('unknown_func_code',
                'func_class', func_raw,
                '功能分类编码不在' || fiscal_year::VARCHAR || '年度科目表中 / unknown functional class: ' || func_text)
        END AS reject
    FROM c
)
SELECT
    source_key, source_row,
    unit_code, unit_name, fiscal_year, doc_no, budget_kind, budget_kind_text,
    func_code, func_name_given, econ_code, econ_name_given, project_code, project_name_given, fund_source,
    amount_written, amount::DECIMAL(18, 2) AS amount, coalesce(procurement_signed, 0)::DECIMAL(18, 2) AS procurement_amount,
    reject.code AS reject_code, reject.field AS reject_field, reject.value AS reject_value, reject.reason AS reject_reason
FROM checked
