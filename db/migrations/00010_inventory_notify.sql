-- +goose Up

-- Every change to hosts or host groups, by any writer (the API, COPY, future workers),
-- announces itself on openwatch_inventory when its transaction commits, so each server
-- process can drop the list pages it cached. Statement-level: one notification per
-- statement, and PostgreSQL folds repeats within a transaction.
-- +goose StatementBegin
CREATE FUNCTION openwatch_inventory_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('openwatch_inventory', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER hosts_inventory_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON hosts
    FOR EACH STATEMENT EXECUTE FUNCTION openwatch_inventory_notify();
CREATE TRIGGER host_groups_inventory_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON host_groups
    FOR EACH STATEMENT EXECUTE FUNCTION openwatch_inventory_notify();

-- +goose Down
DROP TRIGGER host_groups_inventory_notify ON host_groups;
DROP TRIGGER hosts_inventory_notify ON hosts;
DROP FUNCTION openwatch_inventory_notify();
