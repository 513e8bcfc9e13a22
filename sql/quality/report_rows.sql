-- The error report's lines (pipelines/quality/report.py): every quarantined row of the
-- scope's files (and of files that count for no unit-year, or could not be read) and every
-- offending row of the load's failed checks. A check's row about a row the quarantine holds
-- (same file, row and kind: the field rules such as budget_unknown_econ_code re-select
-- quarantined rows) is folded into that row's line: each problem once.
-- Reads the temp tables _scope (the load's unit-years) and _report_expected (reason code ->
-- what was expected, from report.py); parameters $load_id, $fatal, $warning (the labels).
WITH scope_files AS (
    SELECT so.source_file FROM meta.slices a
    JOIN meta.sources so ON so.source_id = a.source_id
    JOIN _scope s ON s.unit_code = a.unit_code AND s.fiscal_year = a.fiscal_year
    WHERE a.status = 'active'
    UNION SELECT so.source_file FROM meta.sources so
    WHERE NOT EXISTS (SELECT 1 FROM meta.slices a WHERE a.source_id = so.source_id)
    UNION SELECT source_file FROM meta.files WHERE status = 'unreadable'
),
q AS (
    SELECT q.*, so.headers,
        CASE  -- the canonical column the row is about: by kind, reason code and the reason's text
        WHEN q.reason_code = 'unknown_econ_code' THEN 'econ_class'
        WHEN q.reason_code = 'unknown_func_code' THEN 'func_class'
        WHEN q.reason_code = 'unknown_budget_kind' THEN 'budget_kind'
        WHEN q.reason_code = 'unreadable_year' THEN 'fiscal_year'
        WHEN q.reason_code IN ('unreadable_date', 'date_out_of_range') AND q.kind = 'voucher_lines' THEN 'voucher_date'
        WHEN q.reason_code IN ('unreadable_date', 'date_out_of_range') AND q.kind = 'procurement' THEN 'date'
        WHEN q.reason_code = 'unreadable_date' AND contains(q.reason, '开工') THEN 'start_date'
        WHEN q.reason_code = 'unreadable_date' THEN 'end_date'
        WHEN q.reason_code = 'unreadable_amount' AND contains(q.reason, '借方') THEN 'debit'
        WHEN q.reason_code = 'unreadable_amount' AND contains(q.reason, '贷方') THEN 'credit'
        WHEN q.reason_code = 'unreadable_amount' AND contains(q.reason, '政府采购预算') THEN 'procurement_amount'
        WHEN q.reason_code = 'unreadable_amount' AND q.kind = 'procurement' THEN 'contract_amount'
        WHEN q.reason_code = 'unreadable_amount' THEN 'amount'
        WHEN q.reason_code = 'unreadable_number' AND contains(q.reason, '编制') THEN 'authorized'
        WHEN q.reason_code = 'unreadable_number' AND contains(q.reason, '在职') THEN 'in_service'
        WHEN q.reason_code = 'unreadable_number' AND contains(q.reason, '离退休') THEN 'retired'
        WHEN q.reason_code = 'unreadable_number' THEN 'weight'
        WHEN q.reason_code = 'unbalanced_voucher' THEN 'debit'
        WHEN q.reason_code = 'missing_required' AND contains(q.reason, '单位编码') THEN 'unit_code'
        WHEN q.reason_code = 'missing_required' AND contains(q.reason, '经济分类') THEN 'econ_class'
        WHEN q.reason_code = 'missing_required' AND contains(q.reason, '科目编码') THEN 'account_code'
        WHEN q.reason_code = 'missing_required' AND contains(q.reason, '凭证日期') THEN 'voucher_date'
        WHEN q.reason_code = 'missing_required' AND contains(q.reason, '凭证号') THEN 'voucher_no'
        WHEN q.reason_code = 'missing_required' AND contains(q.reason, '项目编码') THEN 'project_code'
        WHEN q.reason_code = 'missing_required' AND contains(q.reason, '三级指标') THEN 'name'
        WHEN q.reason_code = 'missing_required' AND contains(q.reason, '合同金额') THEN 'contract_amount'
        WHEN q.reason_code = 'missing_required' AND contains(q.reason, '金额') THEN 'amount'
        WHEN q.reason_code = 'missing_required' AND contains(q.reason, '年度') THEN 'fiscal_year'
    END AS canonical
    FROM quarantine q
    LEFT JOIN meta.sources so
      ON so.source_file = q.source_file AND so.sheet IS NOT DISTINCT FROM q.sheet AND so.kind = q.kind
    WHERE q.source_file IN (SELECT source_file FROM scope_files)
),
q_fields AS (  -- headers as the file wrote them; read as MAPs: any header text is a valid key
    SELECT q.*,
           json_transform(q.headers, '"MAP(VARCHAR, VARCHAR)"')[q.canonical] AS header,
           json_transform(q.headers, '"MAP(VARCHAR, VARCHAR)"')['credit'] AS credit_header,
           json_transform(q.raw, '"MAP(VARCHAR, VARCHAR)"') AS cells
    FROM q
),
quarantined AS (
    SELECT
        q.source_file, q.kind,
        q.source_file || coalesce(' [' || q.sheet || ']', '') AS file, q.source_row AS row_no,
        CASE WHEN q.reason_code = 'unbalanced_voucher'
             THEN coalesce(q.header, '借方') || ' / ' || coalesce(q.credit_header, '贷方')
             ELSE coalesce(q.header, q.canonical) END AS field,
        CASE WHEN q.reason_code = 'unbalanced_voucher'
             THEN coalesce(q.cells[q.header], '') || ' / ' || coalesce(q.cells[q.credit_header], '')
             WHEN q.header IS NOT NULL THEN q.cells[q.header] END AS provided,
        e.expected,
        NULL::DECIMAL(18, 2) AS difference,
        'quarantine:' || q.reason_code AS rule,
        $warning AS severity,
        '已隔离，未计入：' || split_part(q.reason, ' / ', 1) AS note  -- the reason's Chinese half
    FROM q_fields q
    LEFT JOIN _report_expected e ON e.reason_code = q.reason_code
),
checked AS (
    SELECT
        r.source_file, split_part(r.target_table, '.', 2) AS kind,
        r.source_file AS file, r.source_row AS row_no, r.field, r.value_provided AS provided,
        r.value_expected AS expected, r.difference, r.check_id AS rule, CASE r.severity WHEN 'fatal' THEN $fatal ELSE $warning END AS severity,
        CASE WHEN r.source_file IS NULL AND r.unit_code IS NOT NULL
             THEN '单位 ' || r.unit_code || '，' || r.fiscal_year::VARCHAR || '年度：' ELSE '' END
            || r.message || coalesce('（' || r.detail || '）', '') AS note
    FROM quality.results r WHERE r.load_id = $load_id
),
folded AS (  -- the checks' rows about a quarantined row: the same problem, said again
    SELECT c.source_file, c.row_no, c.kind, list(DISTINCT c.rule ORDER BY c.rule) AS rules,
           min(c.expected) AS expected, min(c.difference) AS difference,
           max(c.severity = $fatal) AS fatal
    FROM checked c
    WHERE EXISTS (SELECT 1 FROM quarantined q
                  WHERE q.source_file = c.source_file AND q.row_no = c.row_no AND q.kind = c.kind)
    GROUP BY ALL
),
lines AS (
    SELECT c.file, c.row_no, c.field, c.provided, c.expected, c.difference, c.rule, c.severity, c.note,
           []::VARCHAR[] AS folded_rules
    FROM checked c
    WHERE NOT EXISTS (SELECT 1 FROM folded f
                      WHERE f.source_file = c.source_file AND f.row_no = c.row_no AND f.kind = c.kind)
    UNION ALL
    SELECT q.file, q.row_no, q.field, q.provided, coalesce(f.expected, q.expected),
           coalesce(f.difference, q.difference), q.rule,
           CASE WHEN f.fatal THEN $fatal ELSE q.severity END, q.note, coalesce(f.rules, [])
    FROM quarantined q
    LEFT JOIN folded f ON f.source_file = q.source_file AND f.row_no = q.row_no AND f.kind = q.kind
)
SELECT DISTINCT * FROM lines
ORDER BY file NULLS LAST, row_no NULLS FIRST, rule, field, provided;
