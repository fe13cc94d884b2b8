package audit_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/audit"
)

func TestRegistry(t *testing.T) {
	t.Parallel()
	name := regexp.MustCompile(`^[a-z][a-z_]*(\.[a-z][a-z_]*)+$`)
	severities := map[audit.Severity]bool{
		audit.SeverityInfo: true, audit.SeverityNotice: true, audit.SeverityWarning: true, audit.SeverityCritical: true,
	}
	for action, spec := range audit.Actions {
		require.Regexp(t, name, string(action))
		require.True(t, severities[spec.Severity], "%s has severity %q", action, spec.Severity)
		require.True(t, strings.HasSuffix(spec.Description, "."), "%s: the description is a sentence", action)
	}

	for action, severity := range map[audit.Action]audit.Severity{
		"auth.login.succeeded": audit.SeverityInfo,
		"auth.login.failed":    audit.SeverityWarning,
		"auth.refresh.reused":  audit.SeverityCritical,
		"authz.denied":         audit.SeverityWarning,
		"user.password_reset":  audit.SeverityNotice,
		"token.revoked":        audit.SeverityNotice,
		"audit.verified":       audit.SeverityInfo,
	} {
		require.Equal(t, severity, audit.Actions[action].Severity, action)
	}
	require.Len(t, audit.Actions, 56)
}
