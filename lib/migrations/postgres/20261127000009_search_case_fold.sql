-- Search text is case-folded without the two context-dependent spellings of lower-casing
-- (`storage::sql::fold_case`): final sigma (U+03C2) becomes sigma (U+03C3), and the combining
-- dot above (U+0307) after an `i` (from the Turkish dotted capital I) is dropped. Rows written
-- before are rewritten the same way, so old and new tasks match the same searches. (Only a
-- UTF-8 database can hold those characters; `chr` refuses them in any other.)
DO $$
BEGIN
    IF current_setting('server_encoding') = 'UTF8' THEN
        UPDATE tasks
           SET search_text = replace(replace(search_text, chr(962), chr(963)), 'i' || chr(775), 'i')
         WHERE strpos(search_text, chr(962)) > 0 OR strpos(search_text, 'i' || chr(775)) > 0;
    END IF;
END
$$;
