-- Tags and search text are kept in Unicode normal form C from now on (`domain::task::nfc`,
-- `storage::sql::fold_case`). SQLite has no `normalize`: this marks the rewrite of the rows
-- written before, which `SqliteTaskStore::connect` does in Rust right after the migrations,
-- under the same lock, and then deletes the mark.
CREATE TABLE data_fixes (name TEXT PRIMARY KEY);
INSERT INTO data_fixes (name) VALUES ('unicode_nfc');
