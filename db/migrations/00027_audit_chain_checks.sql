-- The periodic verification of the audit chain (the alert package's job) records its last
-- verdict here, one row, in the transaction that raises or resolves audit_chain_broken, so
-- GET /audit/integrity can say when the chain was last verified, what was found, and when
-- it last verified intact.

-- +goose Up
CREATE TABLE audit_chain_checks (
    id                boolean PRIMARY KEY DEFAULT true CHECK (id),
    verified_at       timestamptz NOT NULL,
    ok                boolean NOT NULL,
    checked           bigint NOT NULL,
    first_broken_seq  bigint,
    reason            text NOT NULL DEFAULT '',
    last_ok_at        timestamptz
);

-- +goose Down
DROP TABLE audit_chain_checks;
