-- Tags and search text are kept in Unicode normal form C from now on (`domain::task::nfc`,
-- `storage::sql::fold_case`), and searches and tag filters are normalised the same way. Rows
-- written before are rewritten to match: search text is exactly the normal form of what it
-- was, and tags that become equal are kept once, in their first place. A rewritten task's
-- version moves on, so kept renderings and ETags follow. (Only a UTF-8 database has
-- `normalize`; any other holds no text it would change.)
DO $$
BEGIN
    IF current_setting('server_encoding') = 'UTF8' THEN
        UPDATE tasks t
           SET search_text = normalize(t.search_text, NFC),
               tags = (SELECT coalesce(jsonb_agg(x.tag ORDER BY x.first), '[]'::jsonb)
                         FROM (SELECT normalize(e.value, NFC) AS tag, min(e.ord) AS first
                                 FROM jsonb_array_elements_text(t.tags) WITH ORDINALITY AS e(value, ord)
                                GROUP BY 1) x),
               version = t.version + 1
         WHERE t.search_text IS NOT NFC NORMALIZED OR t.tags::text IS NOT NFC NORMALIZED;
    END IF;
END
$$;
