package report_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/oscal/oscaltest"
)

// oscalDoc is the part of an OSCAL document the tests read.
type oscalDoc struct {
	UUID     string `json:"uuid"`
	ImportAP struct {
		Href string `json:"href"`
	} `json:"import-ap"`
	Results []struct {
		Findings []struct {
			Target struct {
				TargetID string `json:"target-id"`
				Status   struct {
					State string `json:"state"`
				} `json:"status"`
			} `json:"target"`
			RelatedRisks []struct {
				RiskUUID string `json:"risk-uuid"`
			} `json:"related-risks"`
		} `json:"findings"`
		Risks []struct {
			Status    string `json:"status"`
			Statement string `json:"statement"`
		} `json:"risks"`
	} `json:"results"`
	BackMatter struct {
		Resources []struct {
			Title string `json:"title"`
			Props []struct {
				Name, Value string
			} `json:"props"`
			RLinks []struct {
				Href   string `json:"href"`
				Hashes []struct {
					Algorithm string `json:"algorithm"`
					Value     string `json:"value"`
				} `json:"hashes"`
			} `json:"rlinks"`
		} `json:"resources"`
	} `json:"back-matter"`
}

// TestOSCALExport: a compliance and a posture report export as OSCAL assessment results
// and plan through the API; the documents validate against the NIST schemas, are
// byte-identical when repeated, hold one finding per host and rule (the excepted one with
// its deviation-approved risk) and name the signed report (id, SHA-256 of its JSON
// export, signing key id). Other kinds and unknown formats are refused with a 400.
func TestOSCALExport(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	seedCompliance(t, env)
	comp := generate(t, env, admin, map[string]any{"kind": "compliance", "scope": map[string]any{"type": "fleet"}})
	post := generate(t, env, admin, map[string]any{"kind": "posture",
		"parameters": map[string]any{"as_of": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}})
	aud := generate(t, env, admin, map[string]any{"kind": "audit"})

	for _, r := range []struct {
		id   string
		kind string
	}{{comp.Id.String(), "compliance"}, {post.Id.String(), "posture"}} {
		signed := call(env, admin, http.MethodGet, fmt.Sprintf("reports/%s/export?format=json", r.id), nil).Body
		sum := sha256.Sum256(signed)
		docs := map[string]oscalDoc{}
		for format, root := range map[string]string{"oscal": "assessment-results", "oscal-plan": "assessment-plan"} {
			res := call(env, admin, http.MethodGet, fmt.Sprintf("reports/%s/export?format=%s", r.id, format), nil)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			require.Contains(t, res.Header.Get("Content-Disposition"), fmt.Sprintf("report-%s-oscal-%s.json", r.id, root))
			require.Equal(t, "application/json", res.Header.Get("Content-Type"))
			oscaltest.RequireValid(t, res.Body)
			again := call(env, admin, http.MethodGet, fmt.Sprintf("reports/%s/export?format=%s", r.id, format), nil)
			require.Equal(t, res.Body, again.Body, "a repeated %s export of the %s report is byte-identical", format, r.kind)
			var top map[string]oscalDoc
			require.NoError(t, json.Unmarshal(res.Body, &top))
			d, ok := top[root]
			require.True(t, ok, "root %s", root)
			docs[format] = d

			// The signed report is a back-matter resource: id, digest of the JSON export, key.
			var found bool
			for _, rs := range d.BackMatter.Resources {
				props := map[string]string{}
				for _, p := range rs.Props {
					props[p.Name] = p.Value
				}
				if props["report-id"] != r.id {
					continue
				}
				found = true
				require.Equal(t, *comp.SigningKeyId, props["signing-key-id"])
				require.Equal(t, r.kind, props["report-kind"])
				require.NotEmpty(t, props["audit-chain-head-hash"])
				require.Len(t, rs.RLinks, 1)
				require.Equal(t, fmt.Sprintf("/api/v1/reports/%s/export?format=json", r.id), rs.RLinks[0].Href)
				require.Equal(t, "SHA-256", rs.RLinks[0].Hashes[0].Algorithm)
				require.Equal(t, hex.EncodeToString(sum[:]), rs.RLinks[0].Hashes[0].Value, "the digest of the signed JSON export")
			}
			require.True(t, found, "the %s document names the signed report", format)
		}
		ar := docs["oscal"]
		require.Equal(t, fmt.Sprintf("/api/v1/reports/%s/export?format=oscal-plan", r.id), ar.ImportAP.Href)
		require.Len(t, ar.Results, 2, "one result per host")
		states := map[string]int{}
		risks := 0
		for _, res := range ar.Results {
			require.Len(t, res.Findings, 3)
			for _, f := range res.Findings {
				states[f.Target.TargetID+"/"+f.Target.Status.State]++
				risks += len(f.RelatedRisks)
			}
			for _, rk := range res.Risks {
				require.Equal(t, "deviation-approved", rk.Status)
				require.Equal(t, "legacy host", rk.Statement)
			}
		}
		require.Equal(t, map[string]int{"sshd-permit-root-login/not-satisfied": 2, "sshd-protocol/satisfied": 2,
			"auditd-enabled/not-satisfied": 2}, states)
		require.Equal(t, 1, risks, "the excepted result has its accepted risk")
		require.NotEqual(t, ar.UUID, docs["oscal-plan"].UUID)
	}
	a := call(env, admin, http.MethodGet, fmt.Sprintf("reports/%s/export?format=oscal", comp.Id), nil)
	b := call(env, admin, http.MethodGet, fmt.Sprintf("reports/%s/export?format=oscal", post.Id), nil)
	require.NotEqual(t, a.Body, b.Body, "two reports, two documents")

	res := call(env, admin, http.MethodGet, fmt.Sprintf("reports/%s/export?format=oscal", aud.Id), nil)
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	require.Contains(t, string(res.Body), "OSCAL exports compliance and posture reports, not audit reports.")
	res = call(env, admin, http.MethodGet, fmt.Sprintf("reports/%s/export?format=xml", comp.Id), nil)
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
}
