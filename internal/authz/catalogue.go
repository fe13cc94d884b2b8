package authz

import (
	"slices"
	"sort"
)

// Category groups related permissions.
type Category struct {
	ID          string
	Description string
}

// Permission is one `category:action` right.
type Permission struct {
	ID          string
	Category    string
	Description string
	// Dangerous marks permissions that can take over the system or destroy data.
	Dangerous bool
}

// Role is a named set of permissions.
type Role struct {
	ID          string
	Description string
	BuiltIn     bool
	Permissions []string
}

// The permissions of the catalogue.
const (
	PermAccountSelf  = "account:self"
	PermUserRead     = "user:read"
	PermUserWrite    = "user:write"
	PermUserDelete   = "user:delete"
	PermRoleRead     = "role:read"
	PermRoleWrite    = "role:write"
	PermRoleAssign   = "role:assign"
	PermSecRead      = "security:read"
	PermSecWrite     = "security:write"
	PermLicRead      = "license:read"
	PermLicManage    = "license:manage"
	PermSARead       = "service_account:read"
	PermSAWrite      = "service_account:write"
	PermAuditRead    = "audit:read"
	PermAuditExport  = "audit:export"
	PermAuditVerify  = "audit:verify"
	PermHostRead     = "host:read"
	PermHostWrite    = "host:write"
	PermHostDelete   = "host:delete"
	PermCredRead     = "credential:read"
	PermCredWrite    = "credential:write"
	PermCredDelete   = "credential:delete"
	PermSysRead      = "system:read"
	PermSysWrite     = "system:write"
	PermSysConfig    = "system:config:write"
	PermActivity     = "activity:read"
	PermScanRead     = "scan:read"
	PermScanExecute  = "scan:execute"
	PermScanCancel   = "scan:cancel"
	PermCompRead     = "compliance:read"
	PermAlertRead    = "alert:read"
	PermAlertAck     = "alert:acknowledge"
	PermAlertResolve = "alert:resolve"
	PermAlertWrite   = "alert:write"

	PermNotifyRead   = "notification:read"
	PermNotifyWrite  = "notification:write"
	PermNotifyDelete = "notification:delete"
	PermNotifyTest   = "notification:test"

	PermEnrollmentRead  = "enrollment:read"
	PermEnrollmentWrite = "enrollment:write"

	PermHealthCheckRead  = "health_check:read"
	PermHealthCheckWrite = "health_check:write"
	PermHealthCheckTest  = "health_check:test"

	PermExceptionRead    = "exception:read"
	PermExceptionRequest = "exception:request"
	PermExceptionApprove = "exception:approve"
	PermExceptionRevoke  = "exception:revoke"

	PermPatchRead     = "patch:read"
	PermPatchRequest  = "patch:request"
	PermPatchApprove  = "patch:approve"
	PermPatchExecute  = "patch:execute"
	PermPatchRollback = "patch:rollback"

	PermRemediationRead     = "remediation:read"
	PermRemediationRequest  = "remediation:request"
	PermRemediationApprove  = "remediation:approve"
	PermRemediationExecute  = "remediation:execute"
	PermRemediationRollback = "remediation:rollback"

	PermSSOProvider = "admin:sso_provider"

	PermReportRead       = "report:read"
	PermReportGenerate   = "report:generate"
	PermReportSchedule   = "report:schedule"
	PermReportSigningKey = "report:signing_key"

	PermVulnRead = "vulnerability:read"
	PermVulnFeed = "vulnerability:feed"

	PermSupportSysdump  = "support:sysdump"
	PermRetentionPolicy = "admin:retention_policy"
)

// Categories lists the permission categories.
func Categories() []Category {
	return []Category{
		{ID: "account", Description: "The caller's own identity and session."},
		{ID: "user", Description: "User accounts."},
		{ID: "role", Description: "Roles and role assignments."},
		{ID: "security", Description: "Workspace security settings such as required MFA."},
		{ID: "license", Description: "The product license."},
		{ID: "service_account", Description: "Service accounts and their API tokens."},
		{ID: "audit", Description: "The audit trail."},
		{ID: "host", Description: "The fleet inventory: hosts and host groups."},
		{ID: "credential", Description: "The SSH credential vault."},
		{ID: "system", Description: "Fleet dashboards and the connectivity, intelligence, discovery and SSH settings."},
		{ID: "activity", Description: "The activity feed and the live event stream."},
		{ID: "scan", Description: "Compliance scans, their results and evidence, and the rule corpus."},
		{ID: "alert", Description: "Alerts raised by liveness and compliance drift, and their lifecycle."},
		{ID: "notification", Description: "Notification channels and the deliveries of alert notices."},
		{ID: "enrollment", Description: "Self-enrollment of hosts: enrollment tokens and the request queue."},
		{ID: "health_check", Description: "Health checks run on hosts before and after changes."},
		{ID: "exception", Description: "Exceptions (risk acceptance) of failing rules, decided by a second person."},
		{ID: "vulnerability", Description: "Vulnerability exposure matched from offline OSV advisory feeds."},
		{ID: "patch", Description: "Patch jobs: package updates rolled out in waves inside maintenance windows."},
		{ID: "remediation", Description: "Remediation of failing rules: requests, plans, dry runs, execution and rollback."},
		{ID: "admin", Description: "Server administration: single sign-on providers and the retention of stored data."},
		{ID: "report", Description: "Signed reports: generation, exports, schedules and the report signing key."},
		{ID: "support", Description: "Troubleshooting: the support bundle (sysdump)."},
	}
}

// Permissions lists every permission, the only ones an operation may require.
func Permissions() []Permission {
	return []Permission{
		{ID: PermAccountSelf, Category: "account", Description: "Read one's own identity and permissions, change one's password, sign out."},
		{ID: PermUserRead, Category: "user", Description: "List and read user accounts."},
		{ID: PermUserWrite, Category: "user", Description: "Create, update, disable and enable users and reset their passwords.", Dangerous: true},
		{ID: PermUserDelete, Category: "user", Description: "Delete user accounts.", Dangerous: true},
		{ID: PermRoleRead, Category: "role", Description: "List roles and their permissions."},
		{ID: PermRoleWrite, Category: "role", Description: "Create custom roles (only with permissions one holds).", Dangerous: true},
		{ID: PermRoleAssign, Category: "role", Description: "Assign and remove roles (only roles whose permissions one holds).", Dangerous: true},
		{ID: PermSecRead, Category: "security", Description: "Read workspace security settings."},
		{ID: PermSecWrite, Category: "security", Description: "Change workspace security settings.", Dangerous: true},
		{ID: PermLicRead, Category: "license", Description: "See the license tier, status and features."},
		{ID: PermLicManage, Category: "license", Description: "Check license files before installing them."},
		{ID: PermSARead, Category: "service_account", Description: "List service accounts and token metadata."},
		{ID: PermAuditRead, Category: "audit", Description: "Read audit events."},
		{ID: PermHostRead, Category: "host", Description: "List and read hosts and host groups."},
		{ID: PermHostWrite, Category: "host", Description: "Create and change hosts and host groups, and their maintenance mode."},
		{ID: PermHostDelete, Category: "host", Description: "Delete hosts and host groups.", Dangerous: true},
		{ID: PermCredRead, Category: "credential", Description: "List credentials and see which one a host uses (never the secrets)."},
		{ID: PermCredWrite, Category: "credential", Description: "Create, change and copy SSH credentials.", Dangerous: true},
		{ID: PermCredDelete, Category: "credential", Description: "Delete SSH credentials.", Dangerous: true},
		{ID: PermAuditExport, Category: "audit", Description: "Export audit events as CSV or JSON."},
		{ID: PermAuditVerify, Category: "audit", Description: "Verify the integrity of the audit chain."},
		{ID: PermSAWrite, Category: "service_account", Description: "Create, change and disable service accounts; mint and revoke tokens.", Dangerous: true},
		{ID: PermSysRead, Category: "system", Description: "Read fleet dashboards, system settings and worker status."},
		{ID: PermSysWrite, Category: "system", Description: "Change the connectivity polling settings."},
		{ID: PermSysConfig, Category: "system", Description: "Change intelligence, discovery and SSH settings (including whether sudo passwords may be sent) and start discovery sweeps.", Dangerous: true},
		{ID: PermActivity, Category: "activity", Description: "Read the activity feed and the live event stream (items are further filtered by the other permissions held)."},
		{ID: PermScanRead, Category: "scan", Description: "List scans and read their results and evidence; browse the rules."},
		{ID: PermScanExecute, Category: "scan", Description: "Start compliance scans of hosts."},
		{ID: PermScanCancel, Category: "scan", Description: "Cancel queued or running scans and scan batches."},
		{ID: PermCompRead, Category: "scan", Description: "Read hosts' compliance results at any instant and compliance trends."},
		{ID: PermAlertRead, Category: "alert", Description: "List and read alerts."},
		{ID: PermAlertAck, Category: "alert", Description: "Acknowledge active alerts."},
		{ID: PermAlertResolve, Category: "alert", Description: "Resolve alerts."},
		{ID: PermAlertWrite, Category: "alert", Description: "Silence alerts until a time and dismiss them."},
		{ID: PermNotifyRead, Category: "notification", Description: "List notification channels (never their secrets) and deliveries."},
		{ID: PermNotifyWrite, Category: "notification", Description: "Create and change notification channels and redeliver failed deliveries.", Dangerous: true},
		{ID: PermNotifyDelete, Category: "notification", Description: "Delete notification channels.", Dangerous: true},
		{ID: PermNotifyTest, Category: "notification", Description: "Send a test message through a notification channel."},
		{ID: PermEnrollmentRead, Category: "enrollment", Description: "List enrollment tokens (never their secrets) and enrollment requests."},
		{ID: PermEnrollmentWrite, Category: "enrollment", Description: "Create and revoke enrollment tokens; approve and deny enrollment requests (approval adds hosts with certificate credentials).", Dangerous: true},
		{ID: PermHealthCheckRead, Category: "health_check", Description: "List and read health checks and their last test."},
		{ID: PermHealthCheckWrite, Category: "health_check", Description: "Create, change and delete health checks (a command check runs as root on hosts).", Dangerous: true},
		{ID: PermHealthCheckTest, Category: "health_check", Description: "Run a health check now on a host."},
		{ID: PermExceptionRead, Category: "exception", Description: "List and read exceptions."},
		{ID: PermExceptionRequest, Category: "exception", Description: "Request an exception of a rule on a host, a group or the fleet."},
		{ID: PermExceptionApprove, Category: "exception", Description: "Approve or reject exceptions requested by someone else.", Dangerous: true},
		{ID: PermExceptionRevoke, Category: "exception", Description: "Revoke approved exceptions."},
		{ID: PermVulnRead, Category: "vulnerability", Description: "List vulnerability exposure (fleet, per advisory, per host) and the feed import history."},
		{ID: PermVulnFeed, Category: "vulnerability", Description: "Import offline OSV advisory feeds (changes every host's exposure)."},
		{ID: PermPatchRead, Category: "patch", Description: "List and read patch jobs, their hosts and every step run."},
		{ID: PermPatchRequest, Category: "patch", Description: "Create patch jobs (those needing approval wait for a second person).", Dangerous: true},
		{ID: PermPatchApprove, Category: "patch", Description: "Approve or reject patch jobs requested by someone else.", Dangerous: true},
		{ID: PermPatchExecute, Category: "patch", Description: "Start, cancel and resume patch jobs, and override maintenance windows.", Dangerous: true},
		{ID: PermPatchRollback, Category: "patch", Description: "Roll back patch jobs to the captured package versions.", Dangerous: true},
		{ID: PermRemediationRead, Category: "remediation", Description: "List and read remediation requests, their plans and steps."},
		{ID: PermRemediationRequest, Category: "remediation", Description: "Request the remediation of failing rules."},
		{ID: PermRemediationApprove, Category: "remediation", Description: "Approve or reject remediation requests made by someone else.", Dangerous: true},
		{ID: PermRemediationExecute, Category: "remediation", Description: "Dry-run, execute, cancel and resume approved remediations.", Dangerous: true},
		{ID: PermRemediationRollback, Category: "remediation", Description: "Roll back executed remediations.", Dangerous: true},
		{ID: PermSSOProvider, Category: "admin", Description: "Configure single sign-on providers, their role mappings and secrets, discover and test them.", Dangerous: true},
		{ID: PermReportRead, Category: "report", Description: "List and read reports, download their signed exports, see the signing keys and schedules."},
		{ID: PermReportGenerate, Category: "report", Description: "Generate reports (each kind also needs the permission that reads its data: compliance:read, audit:read or patch:read)."},
		{ID: PermReportSchedule, Category: "report", Description: "Create, change and delete report schedules and where they are delivered."},
		{ID: PermReportSigningKey, Category: "report", Description: "Rotate the report signing key.", Dangerous: true},
		{ID: PermSupportSysdump, Category: "support", Description: "Download the support bundle: configuration (secrets redacted), logs, metrics and database statistics.", Dangerous: true},
		{ID: PermRetentionPolicy, Category: "admin", Description: "Read and change how long each kind of stored data is kept before the retention job deletes it (never the audit trail).", Dangerous: true},
	}
}

// Built-in role ids.
const (
	RoleViewer        = "viewer"
	RoleAuditor       = "auditor"
	RoleSecurityAdmin = "security_admin"
	RoleAdmin         = "admin"
)

// BuiltInRoles lists the built-in roles with their permission sets.
func BuiltInRoles() []Role {
	all := make([]string, 0, len(Permissions()))
	for _, p := range Permissions() {
		all = append(all, p.ID)
	}
	sort.Strings(all)
	return []Role{
		{ID: RoleViewer, Description: "Read-only access.", BuiltIn: true,
			Permissions: []string{PermAccountSelf, PermActivity, PermAlertRead, PermHostRead, PermCompRead, PermExceptionRead, PermHealthCheckRead, PermLicRead, PermPatchRead, PermRemediationRead, PermScanRead, PermSysRead, PermVulnRead}},
		{ID: RoleAuditor, Description: "Read access plus audit and compliance review.", BuiltIn: true,
			Permissions: []string{PermAccountSelf, PermActivity, PermAlertRead, PermAuditExport, PermAuditRead, PermAuditVerify, PermCompRead, PermExceptionRead, PermHealthCheckRead, PermHostRead, PermLicRead, PermPatchRead, PermRemediationRead, PermReportGenerate, PermReportRead, PermRoleRead, PermSARead, PermScanRead, PermSecRead, PermSysRead, PermUserRead, PermVulnRead}},
		{ID: RoleSecurityAdmin, Description: "Security configuration: users, roles and access.", BuiltIn: true,
			Permissions: []string{PermAccountSelf, PermActivity, PermAlertAck, PermAlertRead, PermAlertResolve, PermAlertWrite, PermAuditRead, PermCompRead, PermCredDelete, PermCredRead, PermCredWrite, PermExceptionApprove, PermExceptionRead, PermExceptionRequest, PermExceptionRevoke, PermHealthCheckRead, PermHostRead, PermLicRead, PermPatchRead, PermRemediationRead, PermReportGenerate, PermReportRead, PermReportSchedule, PermRoleAssign, PermRoleRead, PermRoleWrite, PermSARead, PermSAWrite, PermScanCancel, PermScanExecute, PermScanRead, PermSecRead, PermSecWrite, PermSysRead, PermUserDelete, PermUserRead, PermUserWrite, PermVulnFeed, PermVulnRead}},
		{ID: RoleAdmin, Description: "Full system administration.", BuiltIn: true, Permissions: all},
	}
}

// IsPermission reports whether id is in the catalogue.
func IsPermission(id string) bool {
	return slices.ContainsFunc(Permissions(), func(p Permission) bool { return p.ID == id })
}

// RolePermissions returns the permission set of a built-in role, or nil for an unknown role.
func RolePermissions(role string) PermissionSet {
	for _, r := range BuiltInRoles() {
		if r.ID == role {
			return NewPermissionSet(r.Permissions...)
		}
	}
	return nil
}

// IsBuiltInRole reports whether id names a built-in role.
func IsBuiltInRole(id string) bool { return RolePermissions(id) != nil }

// Resolve returns the union of the permissions of roles. custom holds the permissions of
// the custom roles among them; unknown roles grant nothing.
func Resolve(roles []string, custom map[string][]string) PermissionSet {
	set := PermissionSet{}
	for _, r := range roles {
		if perms := RolePermissions(r); perms != nil {
			for p := range perms {
				set[p] = struct{}{}
			}
			continue
		}
		for _, p := range custom[r] {
			set[p] = struct{}{}
		}
	}
	return set
}

// PrimaryRole is the single role shown where the API has room for one: the most powerful
// built-in role held, else the first custom role, else "none".
func PrimaryRole(roles []string) string {
	for _, r := range []string{RoleAdmin, RoleSecurityAdmin, RoleAuditor, RoleViewer} {
		if slices.Contains(roles, r) {
			return r
		}
	}
	if len(roles) > 0 {
		return roles[0]
	}
	return "none"
}

// Missing returns the permissions of want that have does not hold, sorted.
func Missing(have PermissionSet, want []string) []string {
	var out []string
	for _, p := range want {
		if !have.Has(p) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// PermissionSet is a set of permission ids.
type PermissionSet map[string]struct{}

// NewPermissionSet returns a set holding ids.
func NewPermissionSet(ids ...string) PermissionSet {
	s := make(PermissionSet, len(ids))
	for _, id := range ids {
		s[id] = struct{}{}
	}
	return s
}

// Has reports whether the set holds id.
func (s PermissionSet) Has(id string) bool {
	_, ok := s[id]
	return ok
}

// Sorted returns the ids in order.
func (s PermissionSet) Sorted() []string {
	out := make([]string, 0, len(s))
	for id := range s {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
