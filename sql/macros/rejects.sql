-- What a staging model writes for a row it rejects: the reason code, the field the problem
-- is in (its contract name, e.g. econ_class), the cell as the file wrote it, and the
-- readable reason. One CASE in each model picks all four, so they cannot disagree; the
-- quarantine carries them (field, value beside reason_code) and the error report reads them.
CREATE OR REPLACE TEMP MACRO fw_reject(code, field, cell, reason) AS
    struct_pack(code := code, field := field, value := CAST(cell AS VARCHAR), reason := reason);

-- The first cell holding U+FFFD (a byte the file's encoding could not decode), with its
-- field: {field, value}, both NULL when there is none. `names` and `cells` are parallel lists.
CREATE OR REPLACE TEMP MACRO fw_undecodable_cell(names, cells) AS
    struct_pack(field := names[list_position(list_transform(cells, lambda c: coalesce(contains(c, '�'), FALSE)), TRUE)],
                value := cells[list_position(list_transform(cells, lambda c: coalesce(contains(c, '�'), FALSE)), TRUE)]);
