-- Search text is case-folded without the two context-dependent spellings of lower-casing
-- (`storage::sql::fold_case`): final sigma (U+03C2) becomes sigma (U+03C3), and the combining
-- dot above (U+0307) after an `i` (from the Turkish dotted capital I) is dropped. Rows written
-- before are rewritten the same way, so old and new tasks match the same searches.
UPDATE tasks
   SET search_text = replace(replace(search_text, char(962), char(963)), 'i' || char(775), 'i')
 WHERE instr(search_text, char(962)) > 0 OR instr(search_text, 'i' || char(775)) > 0;
