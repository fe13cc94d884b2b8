-- +goose Up

-- The audit append (AuditEventAppend) raises instead of changing nothing when the chain
-- head is not the row it expected, so it may be sent in the same round trip as COMMIT
-- (pg.AtCommit): an error there stops the pipeline before COMMIT and the change rolls back
-- with its event. It takes the number of head rows the append moved, which must be one.
-- +goose StatementBegin
CREATE FUNCTION audit_appended(moved bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF moved <> 1 THEN
        RAISE EXCEPTION 'the audit chain head moved while it was locked: the event was not appended'
            USING ERRCODE = 'OW001';
    END IF;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION audit_appended(bigint);
