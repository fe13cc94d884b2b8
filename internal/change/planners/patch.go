package planners

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/change"
	"github.com/openwatch/openwatch/internal/change/patch"
	"github.com/openwatch/openwatch/internal/sshx"
)

// Patch plans patch jobs: one package-manager transaction per host, the package manager
// detected on the host by the scripts.
type Patch struct{}

// Probe needs nothing from the host: the scripts detect the package manager.
func (Patch) Probe(dbq.ChangeJob) []sshx.Command { return nil }

// Plan builds the host's action from the job's spec.
func (Patch) Plan(_ context.Context, job dbq.ChangeJob, host dbq.ChangeJobHost, _ sshx.BatchResult) (change.Planned, error) {
	var spec patch.Spec
	if err := json.Unmarshal(job.Spec, &spec); err != nil {
		return change.Planned{}, fmt.Errorf("read the job's patch spec: %w", err)
	}
	actions, err := patch.Build(spec, change.Host{Name: host.HostName})
	if err != nil {
		return change.Planned{}, err
	}
	return change.Planned{Actions: actions}, nil
}

// ValidateSpec checks a patch spec as the API received it (the JSON of api.PatchSpec);
// errors name the field under "patch." ("patch.packages[2].name").
func (Patch) ValidateSpec(raw []byte) error {
	var spec patch.Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("read the patch spec: %w", err)
	}
	err := spec.Validate()
	var ae *apperr.Error
	if errors.As(err, &ae) {
		if f, ok := ae.Detail["field"].(string); ok {
			return ae.WithDetail("field", "patch."+f)
		}
	}
	return err
}
