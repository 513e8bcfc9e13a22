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
