-- staging.{kind}__rows, after its model: a row of a workbook that passed the model's checks
-- but holds an Excel error value (fw_excel_error: #N/A, #REF! …) in a cell is rejected as
-- excel_error, naming the first such cell (contract 2: a row that cannot be read goes to
-- quarantine, with the reason). The model's own check comes first: #REF! in an amount is
-- unreadable_amount, #N/A in a classification unknown_func_code; this takes the cells any
-- text would pass, a project code, a fund source, a voucher number, a name.
-- Workbooks only: a CSV cell is text as written, and testing every cell of the big CSV
-- exports costs (1.6 s for 5 million voucher lines, measured). The kind's raw columns, in
-- the order of headers.ALIASES, as a MAP of name to cell (cells) and their tests ORed
-- (any_error) are filled in by pipelines/warehouse/schema.py (excel_errors_sql); ingest
-- runs this after the kind's model, before the vouchers' balance check, and only when the
-- batch holds workbooks of the kind (on CSV rows alone the scan still costs 3.5 s at 5,000,000).
UPDATE staging.{kind}__rows AS s
SET reject_code = 'excel_error', reject_field = e.cell.key, reject_value = e.cell.value,
    reject_reason = 'Excel 错误值 ' || e.cell.value || '（单元格的公式未能算出结果） / Excel error value '
        || e.cell.value || ' in ' || e.cell.key
FROM (
    SELECT source_key, source_row, list_filter(map_entries({cells}), lambda c: fw_excel_error(c.value))[1] AS cell
    FROM raw.{kind}__rows
    WHERE source_key IN (SELECT source_key FROM _batch JOIN meta.sources USING (source_key) WHERE sheet IS NOT NULL)
      AND row_kind = 'data' AND ({any_error})
) AS e
WHERE s.reject_code IS NULL AND s.source_key = e.source_key AND s.source_row = e.source_row;
