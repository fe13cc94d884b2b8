-- name: UserSetMFASecret :exec
-- UserSetMFASecret stores a new, not yet verified secret (enrolment restarts).
UPDATE users SET mfa_secret_sealed = @sealed, mfa_enabled_at = NULL, mfa_last_step = 0, updated_at = now()
WHERE id = @id AND deleted_at IS NULL;

-- name: UserMFAAdvance :execrows
-- UserMFAAdvance accepts time step @step for the user only if it is newer than the last
-- accepted one, so two requests racing with one code cannot both win.
UPDATE users SET mfa_last_step = @step WHERE id = @id AND mfa_last_step < @step;

-- name: UserEnableMFA :exec
UPDATE users SET mfa_enabled_at = now(), updated_at = now() WHERE id = @id;

-- name: RecoveryCodesDelete :exec
DELETE FROM user_recovery_codes WHERE user_id = @user_id;

-- name: RecoveryCodeInsert :exec
INSERT INTO user_recovery_codes (user_id, code_hash) VALUES (@user_id, @code_hash);

-- name: RecoveryCodeUse :execrows
UPDATE user_recovery_codes SET used_at = now() WHERE user_id = @user_id AND code_hash = @code_hash AND used_at IS NULL;

-- name: SettingGet :one
SELECT value FROM settings WHERE key = @key;

-- name: SettingPut :exec
INSERT INTO settings (key, value, updated_by) VALUES (@key, @value, @updated_by)
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now(), updated_by = EXCLUDED.updated_by;

-- name: RekeyUserMFAList :many
-- RekeyUserMFAList locks every user holding a sealed TOTP secret, deleted ones too, for
-- `openwatch rekey`.
SELECT id, mfa_secret_sealed AS sealed FROM users WHERE mfa_secret_sealed IS NOT NULL ORDER BY id FOR UPDATE;

-- name: RekeyUserMFASet :exec
UPDATE users SET mfa_secret_sealed = @sealed WHERE id = @id;

-- name: UserResetMFA :execrows
-- UserResetMFA removes a user's second factor (administrator reset): enrolment starts over.
UPDATE users SET mfa_secret_sealed = NULL, mfa_enabled_at = NULL, mfa_last_step = 0, updated_at = now()
WHERE id = @id AND deleted_at IS NULL;
