package apperr

import "net/http"

// Code is a stable, machine-readable error code. Only the constants below exist.
type Code string

// Fault says whose fault an error is.
type Fault string

// The faults of the error envelope.
const (
	FaultClient   Fault = "client"
	FaultServer   Fault = "server"
	FaultPolicy   Fault = "policy"
	FaultExternal Fault = "external"
)

// The registered codes. Adding one means adding it to Registry below and to the ErrorCode
// enum in api/openapi.yaml.
const (
	CodeValidationFailed       Code = "validation_failed"
	CodeBodyTooLarge           Code = "request.body_too_large"
	CodeRouteNotFound          Code = "route.not_found"
	CodeMethodNotAllowed       Code = "route.method_not_allowed"
	CodeAuthRequired           Code = "auth.required"
	CodeAuthInvalidCredentials Code = "auth.invalid_credentials"
	CodeAuthInvalidToken       Code = "auth.invalid_token"
	CodeCSRFRejected           Code = "auth.csrf_rejected"
	CodeMFARequired            Code = "auth.mfa_required"
	CodeMFAInvalid             Code = "auth.mfa_invalid"
	CodePermissionDenied       Code = "authz.permission_denied"
	CodeIdempotencyInProgress  Code = "idempotency.in_progress"
	CodeIdempotencyKeyReused   Code = "idempotency.key_reused"
	CodeNotFound               Code = "resource.not_found"
	CodeConflict               Code = "resource.conflict"
	CodeRateLimited            Code = "rate_limit.exceeded"
	CodeFeatureUnavailable     Code = "license.feature_unavailable"
	CodeLastAdmin              Code = "user.last_admin"
	CodeSelfLockout            Code = "user.self_lockout"
	CodeUnavailable            Code = "service.unavailable"
	CodeInternal               Code = "internal.error"
	CodeHostUnreachable        Code = "host.unreachable"
	CodeHostKeyMismatch        Code = "host.key_mismatch"
	CodeHostCertInvalid        Code = "host.certificate_invalid"
	CodeHostCertRevoked        Code = "host.certificate_revoked"
	CodeHostBusy               Code = "host.busy"
	CodeRangeTooLarge          Code = "discovery.range_too_large"
	CodeScanInProgress         Code = "scan.in_progress"
	CodeInvalidHandoff         Code = "auth.invalid_handoff"
	CodeSSORequired            Code = "auth.sso_required"
	CodeSSOUnreachable         Code = "sso.provider_unreachable"
)

// Spec describes how a code is presented: its HTTP status, fault, whether a retry may
// succeed, and the message used when the error carries none of its own.
type Spec struct {
	Status    int
	Fault     Fault
	Retryable bool
	Message   string
}

// Registry holds every code the server may emit.
var Registry = map[Code]Spec{
	CodeValidationFailed:       {http.StatusBadRequest, FaultClient, false, "The request is not valid."},
	CodeBodyTooLarge:           {http.StatusRequestEntityTooLarge, FaultClient, false, "The request body is too large."},
	CodeRouteNotFound:          {http.StatusNotFound, FaultClient, false, "No such API endpoint."},
	CodeMethodNotAllowed:       {http.StatusMethodNotAllowed, FaultClient, false, "This endpoint does not support that method."},
	CodeAuthRequired:           {http.StatusUnauthorized, FaultClient, false, "Authentication is required."},
	CodeAuthInvalidCredentials: {http.StatusUnauthorized, FaultClient, false, "The username or password is incorrect."},
	CodeAuthInvalidToken:       {http.StatusUnauthorized, FaultClient, false, "The credential is unknown, expired or revoked."},
	CodeCSRFRejected:           {http.StatusForbidden, FaultClient, false, "This cookie-authenticated request did not come from the OpenWatch web app."},
	CodeMFARequired:            {http.StatusUnauthorized, FaultClient, false, "This account requires a one-time code: send otp or recovery_code."},
	CodeMFAInvalid:             {http.StatusUnauthorized, FaultClient, false, "The one-time code is invalid or was already used."},
	CodePermissionDenied:       {http.StatusForbidden, FaultPolicy, false, "You do not have permission to do this."},
	CodeIdempotencyInProgress:  {http.StatusConflict, FaultClient, true, "A request with this Idempotency-Key is still in progress."},
	CodeIdempotencyKeyReused:   {http.StatusConflict, FaultClient, false, "This Idempotency-Key was already used for a different request."},
	CodeNotFound:               {http.StatusNotFound, FaultClient, false, "The resource does not exist."},
	CodeConflict:               {http.StatusConflict, FaultClient, false, "The resource already exists."},
	CodeFeatureUnavailable:     {http.StatusPaymentRequired, FaultPolicy, false, "The license does not include this feature."},
	CodeRateLimited:            {http.StatusTooManyRequests, FaultClient, true, "Too many requests; retry after the time in Retry-After."},
	CodeLastAdmin:              {http.StatusConflict, FaultPolicy, false, "The last active admin cannot be deleted, disabled or demoted."},
	CodeSelfLockout:            {http.StatusConflict, FaultPolicy, false, "You cannot disable or delete your own account."},
	CodeUnavailable:            {http.StatusServiceUnavailable, FaultServer, true, "The service is temporarily unavailable."},
	CodeInternal:               {http.StatusInternalServerError, FaultServer, true, "An internal error occurred."},
	CodeHostUnreachable:        {http.StatusBadGateway, FaultExternal, true, "The host could not be reached over SSH."},
	CodeHostKeyMismatch:        {http.StatusBadGateway, FaultExternal, false, "The host presented an SSH host key other than the trusted one; approve or reset its keys."},
	CodeHostCertInvalid:        {http.StatusBadGateway, FaultExternal, false, "The host did not present a valid host certificate from the OpenWatch host CA for its pinned key."},
	CodeHostCertRevoked:        {http.StatusBadGateway, FaultExternal, false, "The host presented a revoked host certificate; issue or reissue one for it."},
	CodeHostBusy:               {http.StatusConflict, FaultClient, true, "Another check of this host is running; retry when it finishes."},
	CodeRangeTooLarge:          {http.StatusBadRequest, FaultClient, false, "The network range is larger than the configured maximum."},
	CodeScanInProgress:         {http.StatusConflict, FaultClient, true, "A scan of this host is already queued or running; retry when it has finished."},
	CodeInvalidHandoff:         {http.StatusBadRequest, FaultClient, false, "The sign-in handoff code is unknown, expired or already used; sign in again."},
	CodeSSORequired:            {http.StatusForbidden, FaultPolicy, false, "This account signs in through single sign-on."},
	CodeSSOUnreachable:         {http.StatusBadGateway, FaultExternal, true, "The identity provider could not be reached or answered something unusable."},
}
