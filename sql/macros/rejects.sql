-- What a staging model writes for a row it rejects: the reason code, the field the problem
-- is in (its contract name, e.g. econ_class), the cell as the file wrote it, and the
-- readable reason. One CASE in each model picks all four, so they cannot disagree; the
-- quarantine carries them (field, value beside reason_code) and the error report reads them.
CREATE OR REPLACE TEMP MACRO fw_reject(code, field, cell, reason) AS
    struct_pack(code := code, field := field, value := CAST(cell AS VARCHAR), reason := reason);

-- A row with a cell holding U+FFFD (a byte the file's encoding could not decode) is
-- rejected as unreadable_text, naming the first such cell. `cells` maps each field's
-- contract name to its cell as read: MAP {'unit_code': unit_code, ...}.
CREATE OR REPLACE TEMP MACRO fw_first_undecodable(cells) AS
    list_filter(map_entries(cells), lambda e: contains(e.value, '�'))[1];
CREATE OR REPLACE TEMP MACRO fw_undecodable_reject(cells) AS
    fw_reject('unreadable_text', fw_first_undecodable(cells).key, fw_first_undecodable(cells).value,
              '含无法解码的字符（文件编码有误） / text with undecodable bytes');

-- date_out_of_range (contract 2) on a transaction date that could be read: before
-- 2000-01-01, after today + 1 year, or outside the period on the file's title line
-- (meta.sources.title_period_start/_end; no bound where the file states none). NULL for a
-- date within them. `what_zh`/`what_en` name the date in the reason (凭证日期 / voucher date).
-- Which dates are range-checked (README): a voucher's date and a contract's 签订日期.
CREATE OR REPLACE TEMP MACRO fw_date_range_reject(field, cell, d, period_start, period_end, what_zh, what_en) AS
    CASE
        WHEN d < DATE '2000-01-01' OR d > current_date + INTERVAL 1 YEAR THEN fw_reject('date_out_of_range', field, cell,
            what_zh || '超出合理范围 / ' || what_en || ' out of range: ' || d::VARCHAR)
        WHEN d NOT BETWEEN coalesce(period_start, d) AND coalesce(period_end, d) THEN fw_reject('date_out_of_range', field,
            cell, what_zh || '不在文件标题所注期间内 / ' || what_en || ' ' || d::VARCHAR || ' outside the file period '
            || coalesce(period_start::VARCHAR, '') || '..' || coalesce(period_end::VARCHAR, ''))
    END;

-- An Excel error value (Excel's codes, newer ones included): the text of a workbook's error
-- cell, which the reader keeps (pipelines/landing/workbooks.py). In an amount, date or count
-- it is unreadable like any text; staging/excel_errors.sql rejects a row that holds one in
-- any other cell as excel_error (contract 2: a row that cannot be read goes to quarantine).
CREATE OR REPLACE TEMP MACRO fw_excel_error(s) AS
    s IN ('#N/A', '#REF!', '#VALUE!', '#DIV/0!', '#NAME?', '#NUM!', '#NULL!', '#SPILL!', '#CALC!', '#GETTING_DATA',
          '#FIELD!', '#BLOCKED!', '#CONNECT!', '#UNKNOWN!', '#BUSY!', '#PYTHON!', '#EXTERNAL!');
