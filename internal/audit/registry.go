package audit

import "github.com/openwatch/openwatch/internal/authz"

// Action names what an audit event records, as <domain>.<verb> (auth.login.failed). Only the
// actions in Actions may be appended.
type Action string

// Severity ranks events for review and alerting.
type Severity string

// The severities, least to most urgent.
const (
	// SeverityInfo: routine activity.
	SeverityInfo Severity = "info"
	// SeverityNotice: a change to who can do what, or to the product's configuration.
	SeverityNotice Severity = "notice"
	// SeverityWarning: a refused or failed attempt worth a look.
	SeverityWarning Severity = "warning"
	// SeverityCritical: a likely attack or breach in progress.
	SeverityCritical Severity = "critical"
)

// Spec describes an action.
type Spec struct {
	Severity    Severity
	Description string
}

// The registered actions.
const (
	ActionLoginSucceeded            Action = "auth.login.succeeded"
	ActionLoginFailed               Action = "auth.login.failed"
	ActionLogout                    Action = "auth.logout"
	ActionRefreshReused             Action = "auth.refresh.reused"
	ActionPasswordChanged           Action = "auth.password.changed"
	ActionMFAEnrolled               Action = "auth.mfa.enrolled"
	ActionMFAVerified               Action = "auth.mfa.verified"
	ActionMFAFailed                 Action = "auth.mfa.failed"
	ActionLockedOut                 Action = "auth.locked_out"
	ActionRateLimited               Action = "auth.rate_limited"
	ActionAuthzDenied               Action = "authz.denied"
	ActionUserCreated               Action = "user.created"
	ActionUserUpdated               Action = "user.updated"
	ActionUserDeleted               Action = "user.deleted"
	ActionUserDisabled              Action = "user.disabled"
	ActionUserEnabled               Action = "user.enabled"
	ActionUserPasswordReset         Action = "user.password_reset"
	ActionUserSessionsRevoked       Action = "user.sessions_revoked"
	ActionUserMFAReset              Action = "user.mfa_reset"
	ActionRoleAssigned              Action = "role.assigned"
	ActionRoleUnassigned            Action = "role.unassigned"
	ActionRoleCreated               Action = "role.created"
	ActionRoleUpdated               Action = "role.updated"
	ActionRoleDeleted               Action = "role.deleted"
	ActionServiceAccountCreated     Action = "service_account.created"
	ActionServiceAccountUpdated     Action = "service_account.updated"
	ActionServiceAccountDeleted     Action = "service_account.deleted"
	ActionTokenCreated              Action = "token.created"
	ActionTokenRevoked              Action = "token.revoked"
	ActionTokenSigningKeyCreated    Action = "token.signing_key_created"
	ActionCredentialCreated         Action = "credential.created"
	ActionCredentialUpdated         Action = "credential.updated"
	ActionCredentialDeleted         Action = "credential.deleted"
	ActionCredentialCloned          Action = "credential.cloned"
	ActionLicenseVerified           Action = "license.verified"
	ActionLicenseInstalled          Action = "license.installed"
	ActionAuditExported             Action = "audit.exported"
	ActionAuditVerified             Action = "audit.verified"
	ActionSecurityConfigChanged     Action = "security.config_changed"
	ActionHostCreated               Action = "host.created"
	ActionHostUpdated               Action = "host.updated"
	ActionHostDeleted               Action = "host.deleted"
	ActionHostMaintenance           Action = "host.maintenance_changed"
	ActionGroupCreated              Action = "group.created"
	ActionGroupUpdated              Action = "group.updated"
	ActionGroupDeleted              Action = "group.deleted"
	ActionGroupMembership           Action = "group.membership_changed"
	ActionGroupMaintenance          Action = "group.maintenance_changed"
	ActionHostKeyTrusted            Action = "host.key_trusted"
	ActionHostKeyRejected           Action = "host.key_rejected"
	ActionHostKeyApproved           Action = "host.key_approved"
	ActionHostKeysReset             Action = "host.keys_reset"
	ActionSSHConfigChanged          Action = "system.ssh_config_changed"
	ActionSSHCARotated              Action = "ssh_ca.rotated"
	ActionSSHCertConfigChanged      Action = "system.ssh_certificate_config_changed"
	ActionHostCertIssued            Action = "host.certificate_issued"
	ActionHostCertRenewed           Action = "host.certificate_renewed"
	ActionHostCertRevoked           Action = "host.certificate_revoked"
	ActionSSOLogin                  Action = "sso.login"
	ActionSSOLoginRefused           Action = "sso.login_refused"
	ActionSSOProviderCreated        Action = "sso_provider.created"
	ActionSSOProviderUpdated        Action = "sso_provider.updated"
	ActionSSOProviderDeleted        Action = "sso_provider.deleted"
	ActionEnrollTokenCreated        Action = "enrollment.token_created"
	ActionEnrollTokenRevoked        Action = "enrollment.token_revoked"
	ActionEnrollRequested           Action = "enrollment.requested"
	ActionEnrollApproved            Action = "enrollment.approved"
	ActionEnrollDenied              Action = "enrollment.denied"
	ActionEnrollInstalled           Action = "enrollment.installed"
	ActionDiscoveryScanStarted      Action = "discovery.scan_started"
	ActionDiscoveryRegistered       Action = "discovery.host_registered"
	ActionHostConnectivityChecked   Action = "host.connectivity_checked"
	ActionConnectivityConfigChanged Action = "system.connectivity_config_changed"
	ActionHostDiscoveryRun          Action = "host.discovery_run"
	ActionHostIntelCollected        Action = "host.intelligence_collected"
	ActionIntelligenceConfigChanged Action = "system.intelligence_config_changed"
	ActionDiscoveryConfigChanged    Action = "system.discovery_config_changed"
	ActionDiscoverySweep            Action = "discovery.sweep_started"
	ActionScanRequested             Action = "scan.requested"
	ActionScanCancelled             Action = "scan.cancelled"
	ActionScanVariablesChanged      Action = "system.scan_variables_changed"
	ActionScanConfigChanged         Action = "system.scan_config_changed"
	ActionScanBatchRequested        Action = "scan_batch.requested"
	ActionScanBatchCancelled        Action = "scan_batch.cancelled"
	ActionScanRetention             Action = "system.scan_retention_applied"
	ActionAlertAcknowledged         Action = "alert.acknowledged"
	ActionAlertSilenced             Action = "alert.silenced"
	ActionAlertUnsilenced           Action = "alert.unsilenced"
	ActionAlertResolved             Action = "alert.resolved"
	ActionAlertDismissed            Action = "alert.dismissed"
	ActionAlertConfigChanged        Action = "system.alert_config_changed"

	ActionNotificationChannelCreated Action = "notification_channel.created"
	ActionNotificationChannelUpdated Action = "notification_channel.updated"
	ActionNotificationChannelDeleted Action = "notification_channel.deleted"
	ActionNotificationChannelTested  Action = "notification_channel.tested"
	ActionNotificationRedelivered    Action = "notification_delivery.redelivered"

	ActionHealthCheckCreated Action = "health_check.created"
	ActionHealthCheckUpdated Action = "health_check.updated"
	ActionHealthCheckDeleted Action = "health_check.deleted"
	ActionHealthCheckTested  Action = "health_check.tested"

	ActionExceptionRequested Action = "exception.requested"
	ActionExceptionApproved  Action = "exception.approved"
	ActionExceptionRejected  Action = "exception.rejected"
	ActionExceptionRevoked   Action = "exception.revoked"
	ActionExceptionExpired   Action = "exception.expired"

	ActionVulnFeedImported Action = "vulnerability.feed_imported"

	ActionMaintenanceWindowCreated Action = "maintenance_window.created"
	ActionMaintenanceWindowUpdated Action = "maintenance_window.updated"
	ActionMaintenanceWindowDeleted Action = "maintenance_window.deleted"

	ActionChangeJobRequested      Action = "change_job.requested"
	ActionChangeJobApproved       Action = "change_job.approved"
	ActionChangeJobRejected       Action = "change_job.rejected"
	ActionChangeJobExecuted       Action = "change_job.executed"
	ActionChangeJobWindowOverride Action = "change_job.window_overridden"
	ActionChangeJobDryRun         Action = "change_job.dry_run"
	ActionChangeJobCancelled      Action = "change_job.cancelled"
	ActionChangeJobHalted         Action = "change_job.halted"
	ActionChangeJobResumed        Action = "change_job.resumed"
	ActionChangeJobRollback       Action = "change_job.rollback_requested"
	ActionChangeJobFinished       Action = "change_job.finished"
	ActionChangeHostChanged       Action = "change_job.host_changed"
	ActionChangeHostRolledBack    Action = "change_job.host_rolled_back"
	ActionChangeSettingsChanged   Action = "system.change_settings_changed"

	ActionReportGenerated         Action = "report.generated"
	ActionReportSigningKeyRotated Action = "report.signing_key_rotated"
	ActionReportScheduleCreated   Action = "report.schedule_created"
	ActionReportScheduleUpdated   Action = "report.schedule_updated"
	ActionReportScheduleDeleted   Action = "report.schedule_deleted"

	ActionSysdumpCreated         Action = "support.sysdump_created"
	ActionRetentionPolicyChanged Action = "system.retention_policy_changed"
	ActionRetentionApplied       Action = "system.retention_applied"
)

// Actions is the registry of every action an event may record. Adding an action means
// adding its constant above and its entry here.
var Actions = map[Action]Spec{
	ActionLoginSucceeded:            {SeverityInfo, "A user signed in."},
	ActionLoginFailed:               {SeverityWarning, "A sign-in attempt failed."},
	ActionLogout:                    {SeverityInfo, "A user signed out."},
	ActionRefreshReused:             {SeverityCritical, "A refresh token was presented a second time; its session was revoked."},
	ActionPasswordChanged:           {SeverityNotice, "A user changed their password."},
	ActionMFAEnrolled:               {SeverityNotice, "A user enrolled a second factor."},
	ActionMFAVerified:               {SeverityNotice, "A user confirmed a second factor."},
	ActionMFAFailed:                 {SeverityWarning, "A second-factor code was wrong."},
	ActionLockedOut:                 {SeverityWarning, "An account was locked after repeated failures."},
	ActionRateLimited:               {SeverityWarning, "Sign-in attempts were refused for coming too fast."},
	ActionAuthzDenied:               {SeverityWarning, "A request was refused for lack of a permission."},
	ActionUserCreated:               {SeverityNotice, "A user was created."},
	ActionUserUpdated:               {SeverityNotice, "A user was changed."},
	ActionUserDeleted:               {SeverityNotice, "A user was deleted."},
	ActionUserDisabled:              {SeverityNotice, "A user was disabled."},
	ActionUserEnabled:               {SeverityNotice, "A user was enabled."},
	ActionUserPasswordReset:         {SeverityNotice, "An administrator reset a user's password."},
	ActionUserSessionsRevoked:       {SeverityNotice, "An administrator signed a user out everywhere."},
	ActionUserMFAReset:              {SeverityNotice, "An administrator removed a user's second factor."},
	ActionRoleAssigned:              {SeverityNotice, "A role was given to a user."},
	ActionRoleUnassigned:            {SeverityNotice, "A role was taken from a user."},
	ActionRoleCreated:               {SeverityNotice, "A custom role was created."},
	ActionRoleUpdated:               {SeverityNotice, "A custom role's description or permissions were changed."},
	ActionRoleDeleted:               {SeverityNotice, "A custom role was deleted."},
	ActionServiceAccountCreated:     {SeverityNotice, "A service account was created."},
	ActionServiceAccountUpdated:     {SeverityNotice, "A service account was changed."},
	ActionServiceAccountDeleted:     {SeverityNotice, "A service account was deleted."},
	ActionTokenCreated:              {SeverityNotice, "An API token was created."},
	ActionTokenRevoked:              {SeverityNotice, "An API token was revoked."},
	ActionTokenSigningKeyCreated:    {SeverityNotice, "An API token's signing key (signed requests) was created or replaced."},
	ActionCredentialCreated:         {SeverityNotice, "An SSH credential was created."},
	ActionCredentialUpdated:         {SeverityNotice, "An SSH credential was changed."},
	ActionCredentialDeleted:         {SeverityNotice, "An SSH credential was deleted."},
	ActionCredentialCloned:          {SeverityNotice, "An SSH credential was copied to a new scope."},
	ActionLicenseVerified:           {SeverityInfo, "A license was checked."},
	ActionLicenseInstalled:          {SeverityNotice, "A license was installed, changing the features in force."},
	ActionAuditExported:             {SeverityNotice, "Audit events were exported."},
	ActionAuditVerified:             {SeverityInfo, "The audit chain was verified."},
	ActionSecurityConfigChanged:     {SeverityNotice, "Workspace security settings were changed."},
	ActionHostCreated:               {SeverityInfo, "A host was added to the inventory."},
	ActionHostUpdated:               {SeverityInfo, "A host was changed."},
	ActionHostDeleted:               {SeverityNotice, "A host was deleted."},
	ActionHostMaintenance:           {SeverityInfo, "A host's maintenance mode was turned on or off."},
	ActionGroupCreated:              {SeverityInfo, "A host group was created."},
	ActionGroupUpdated:              {SeverityInfo, "A host group was changed."},
	ActionGroupDeleted:              {SeverityNotice, "A host group was deleted."},
	ActionGroupMembership:           {SeverityInfo, "A host joined or left a group."},
	ActionGroupMaintenance:          {SeverityInfo, "A group's maintenance mode was turned on or off."},
	ActionHostKeyTrusted:            {SeverityNotice, "A host's SSH host key was trusted on first contact."},
	ActionHostKeyRejected:           {SeverityWarning, "A host presented an SSH host key other than the trusted one; connections fail until it is approved."},
	ActionHostKeyApproved:           {SeverityNotice, "An operator approved a host's new SSH host key."},
	ActionHostKeysReset:             {SeverityNotice, "An operator reset a host's SSH host keys (the next contact trusts the key it presents)."},
	ActionSSHConfigChanged:          {SeverityNotice, "The SSH client settings were changed."},
	ActionSSHCertConfigChanged:      {SeverityNotice, "The host certificate expiry settings were changed."},
	ActionSSHCARotated:              {SeverityWarning, "An SSH CA key (user or host) was rotated; the previous key stays trusted for the overlap."},
	ActionHostCertIssued:            {SeverityNotice, "A host certificate was issued by the SSH host CA."},
	ActionHostCertRenewed:           {SeverityNotice, "A host certificate was renewed (a new one issued for the same key)."},
	ActionHostCertRevoked:           {SeverityWarning, "A host certificate was revoked; its serial is in the KRL."},
	ActionSSOLogin:                  {SeverityInfo, "A user signed in through a single sign-on provider."},
	ActionSSOLoginRefused:           {SeverityWarning, "A sign-in through a single sign-on provider was refused."},
	ActionSSOProviderCreated:        {SeverityNotice, "A single sign-on provider was added."},
	ActionSSOProviderUpdated:        {SeverityNotice, "A single sign-on provider's settings were changed."},
	ActionSSOProviderDeleted:        {SeverityNotice, "A single sign-on provider was deleted."},
	ActionEnrollTokenCreated:        {SeverityNotice, "An enrollment token was created."},
	ActionEnrollTokenRevoked:        {SeverityNotice, "An enrollment token was revoked."},
	ActionEnrollRequested:           {SeverityInfo, "A host asked to be enrolled with an enrollment token."},
	ActionEnrollApproved:            {SeverityNotice, "An enrollment request was approved: the host was added with its host key pinned and a host certificate."},
	ActionEnrollDenied:              {SeverityNotice, "An enrollment request was denied."},
	ActionEnrollInstalled:           {SeverityInfo, "An enrolled host installed its host certificate; its first system info collection and scan were queued."},
	ActionDiscoveryScanStarted:      {SeverityInfo, "A network scan for SSH servers was started."},
	ActionScanRequested:             {SeverityInfo, "A compliance scan of a host was requested."},
	ActionScanCancelled:             {SeverityInfo, "A compliance scan was cancelled."},
	ActionScanVariablesChanged:      {SeverityNotice, "The values of rule variables used by compliance scans were changed."},
	ActionScanConfigChanged:         {SeverityNotice, "The scan schedule or the retention of scans and evidence was changed."},
	ActionScanBatchRequested:        {SeverityInfo, "A batch of compliance scans over many hosts was requested."},
	ActionScanBatchCancelled:        {SeverityInfo, "A batch of compliance scans was cancelled."},
	ActionScanRetention:             {SeverityInfo, "Scans and evidence past their retention were deleted."},
	ActionDiscoveryRegistered:       {SeverityInfo, "A host found by a network scan was added to the inventory."},
	ActionHostConnectivityChecked:   {SeverityInfo, "A connectivity check of a host was run on demand."},
	ActionConnectivityConfigChanged: {SeverityNotice, "The connectivity polling configuration was changed."},
	ActionHostDiscoveryRun:          {SeverityInfo, "Discovery of a host's system information was run on demand."},
	ActionHostIntelCollected:        {SeverityInfo, "A host's intelligence (packages, services, users, ports, ...) was collected on demand."},
	ActionIntelligenceConfigChanged: {SeverityNotice, "The intelligence collection configuration was changed."},
	ActionDiscoveryConfigChanged:    {SeverityNotice, "The discovery configuration was changed."},
	ActionDiscoverySweep:            {SeverityInfo, "A discovery sweep of every eligible host was started."},
	ActionAlertAcknowledged:         {SeverityInfo, "An alert was acknowledged."},
	ActionAlertSilenced:             {SeverityInfo, "An alert was silenced until a time."},
	ActionAlertUnsilenced:           {SeverityInfo, "An alert's silence ran out and it became active again."},
	ActionAlertResolved:             {SeverityInfo, "An alert was resolved, by a user or because its condition cleared."},
	ActionAlertDismissed:            {SeverityInfo, "An alert was dismissed."},
	ActionAlertConfigChanged:        {SeverityNotice, "The thresholds of score and failing-scan alerts were changed."},

	ActionNotificationChannelCreated: {SeverityNotice, "A notification channel was created."},
	ActionNotificationChannelUpdated: {SeverityNotice, "A notification channel was changed."},
	ActionNotificationChannelDeleted: {SeverityNotice, "A notification channel was deleted."},
	ActionNotificationChannelTested:  {SeverityInfo, "A test message was sent through a notification channel."},
	ActionNotificationRedelivered:    {SeverityInfo, "A failed notification delivery was queued again."},

	ActionHealthCheckCreated: {SeverityNotice, "A health check was created."},
	ActionHealthCheckUpdated: {SeverityNotice, "A health check was changed."},
	ActionHealthCheckDeleted: {SeverityNotice, "A health check was deleted."},
	ActionHealthCheckTested:  {SeverityInfo, "A health check was run on a host by hand."},

	ActionExceptionRequested: {SeverityNotice, "An exception (risk acceptance) of a rule was requested."},
	ActionExceptionApproved:  {SeverityWarning, "An exception was approved: the rule's failures it covers are accepted until it expires."},
	ActionExceptionRejected:  {SeverityNotice, "A requested exception was rejected."},
	ActionExceptionRevoked:   {SeverityNotice, "An approved exception was revoked: the rule's failures count again."},
	ActionExceptionExpired:   {SeverityNotice, "An exception reached its expiry: the rule's failures count again."},

	ActionVulnFeedImported: {SeverityNotice, "An OSV advisory feed was imported and exposure matched again."},

	ActionMaintenanceWindowCreated: {SeverityNotice, "A maintenance window was added to a host or group."},
	ActionMaintenanceWindowUpdated: {SeverityNotice, "A maintenance window was changed."},
	ActionMaintenanceWindowDeleted: {SeverityNotice, "A maintenance window was deleted."},

	ActionChangeJobRequested:      {SeverityNotice, "A change job (patch or remediation) was requested."},
	ActionChangeJobApproved:       {SeverityWarning, "A change job was approved by a second person."},
	ActionChangeJobRejected:       {SeverityNotice, "A change job was rejected."},
	ActionChangeJobExecuted:       {SeverityWarning, "A change job started changing hosts."},
	ActionChangeJobWindowOverride: {SeverityWarning, "A change job was started with an override of its hosts' maintenance windows."},
	ActionChangeJobDryRun:         {SeverityInfo, "A dry run of a change job was started: it changes nothing."},
	ActionChangeJobCancelled:      {SeverityNotice, "A change job was cancelled: no further host is changed."},
	ActionChangeJobHalted:         {SeverityWarning, "A rollout halted: its failure budget was spent."},
	ActionChangeJobResumed:        {SeverityWarning, "A halted rollout was resumed."},
	ActionChangeJobRollback:       {SeverityWarning, "The rollback of a change job was requested: its changed hosts are restored."},
	ActionChangeJobFinished:       {SeverityInfo, "A change job finished."},
	ActionChangeHostChanged:       {SeverityNotice, "A change job changed a host (or failed to and restored it)."},
	ActionChangeHostRolledBack:    {SeverityNotice, "A change job restored a host's captured prior state."},
	ActionChangeSettingsChanged:   {SeverityNotice, "The approval settings of change jobs were changed."},

	ActionReportGenerated:         {SeverityInfo, "A signed report was requested (by a person or a schedule)."},
	ActionReportSigningKeyRotated: {SeverityWarning, "The report signing key was rotated: new reports are signed with a new key, old ones still verify with the retired key."},
	ActionReportScheduleCreated:   {SeverityNotice, "A report schedule was created."},
	ActionReportScheduleUpdated:   {SeverityNotice, "A report schedule was changed."},
	ActionReportScheduleDeleted:   {SeverityNotice, "A report schedule was deleted."},

	ActionSysdumpCreated:         {SeverityNotice, "A support bundle (configuration with secrets redacted, logs, metrics, database statistics) was downloaded."},
	ActionRetentionPolicyChanged: {SeverityNotice, "The retention policy of stored data was changed."},
	ActionRetentionApplied:       {SeverityInfo, "The retention job deleted data past its retention (the audit trail is never deleted)."},
}

// The actor types an event may name: the kinds of authz.Actor, and an anonymous caller.
const (
	ActorUser           = string(authz.ActorUser)
	ActorServiceAccount = string(authz.ActorServiceAccount)
	ActorSystem         = string(authz.ActorSystem)
	ActorAnonymous      = "anonymous"
)

// validActorType reports whether t is one of the actor types.
func validActorType(t string) bool {
	switch t {
	case ActorUser, ActorServiceAccount, ActorSystem, ActorAnonymous:
		return true
	}
	return false
}
