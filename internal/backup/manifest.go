package backup

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/openwatch/openwatch/internal/config"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/tlscert"
)

// Format is the version of the archive layout this package writes and reads.
const Format = 1

// ManifestName is the archive entry holding the manifest, written first.
const ManifestName = "manifest.json"

// Roles of the files in an archive.
const (
	RoleDatabase           = "database"
	RoleSecretsKey         = "secrets_key"
	RoleJWTSigningKey      = "jwt_signing_key"
	RoleTLSCACert          = "tls_ca_cert"
	RoleTLSCAKey           = "tls_ca_key"
	RoleTLSCert            = "tls_cert"
	RoleTLSKey             = "tls_key"
	RoleLicense            = "license"
	RoleLicenseTrustedKeys = "license_trusted_keys"
)

// entryNames are the archive entry names of each role.
var entryNames = map[string]string{
	RoleDatabase:           "database.dump",
	RoleSecretsKey:         "keys/secrets.key",
	RoleJWTSigningKey:      "keys/jwt-signing.jwk",
	RoleTLSCACert:          "tls/ca.crt",
	RoleTLSCAKey:           "tls/ca.key",
	RoleTLSCert:            "tls/server.crt",
	RoleTLSKey:             "tls/server.key",
	RoleLicense:            "license/license.jwt",
	RoleLicenseTrustedKeys: "license/trusted-keys.jwks",
}

// Manifest describes an archive.
type Manifest struct {
	Format           int       `json:"format"`
	OpenWatchVersion string    `json:"openwatch_version"`
	OpenWatchCommit  string    `json:"openwatch_commit,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
	// SchemaVersion is the database's migration state when it was dumped.
	SchemaVersion pg.SchemaVersion `json:"schema_version"`
	Database      Database         `json:"database"`
	Files         []File           `json:"files"`
}

// Database identifies the database a backup was taken from.
type Database struct {
	// SystemIdentifier is the PostgreSQL cluster's unique id (pg_control_system), empty
	// when the role may not read it.
	SystemIdentifier string `json:"system_identifier,omitempty"`
	Name             string `json:"name"`
	ServerVersion    string `json:"server_version"`
	// Managed is true for the cluster OpenWatch runs under its data directory.
	Managed bool `json:"managed"`
	// DumpProgram is the version line of the pg_dump that wrote the dump.
	DumpProgram string `json:"dump_program"`
	// AuditHeadSeq is the sequence number of the newest audit event in the dump.
	AuditHeadSeq int64 `json:"audit_head_seq"`
}

// File is one entry of the archive besides the manifest.
type File struct {
	Name   string `json:"name"`
	Role   string `json:"role"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Source is where the file was read from (empty for the dump).
	Source string `json:"source,omitempty"`
}

// KeyFile is a file of key material and where the configuration keeps it.
type KeyFile struct {
	Role string
	Path string
	// Required files must exist for a backup: without the secrets key no sealed secret
	// in the dump can be opened.
	Required bool
}

// KeyFiles returns the key files of cfg: the secrets key, the token signing key, the TLS
// certificate authority and server pair (generated under <data_dir>/tls or configured),
// the license and the extra license keys. Report signing keys, SSH CA keys, the audit MAC
// key and every other secret live sealed in the database.
func KeyFiles(cfg config.Config) []KeyFile {
	files := []KeyFile{
		{Role: RoleSecretsKey, Path: cfg.SecretsKeyPath(), Required: true},
		{Role: RoleJWTSigningKey, Path: cfg.SigningKeyPath()},
	}
	if cfg.Server.TLSCert == "" {
		dir := cfg.TLSDir()
		files = append(files,
			KeyFile{Role: RoleTLSCACert, Path: filepath.Join(dir, tlscert.CACertFile)},
			KeyFile{Role: RoleTLSCAKey, Path: filepath.Join(dir, tlscert.CAKeyFile)},
			KeyFile{Role: RoleTLSCert, Path: filepath.Join(dir, tlscert.ServerCertFile)},
			KeyFile{Role: RoleTLSKey, Path: filepath.Join(dir, tlscert.ServerKeyFile)})
	} else {
		files = append(files,
			KeyFile{Role: RoleTLSCert, Path: cfg.Server.TLSCert},
			KeyFile{Role: RoleTLSKey, Path: cfg.Server.TLSKey})
		if cfg.Server.TLSCA != "" {
			files = append(files, KeyFile{Role: RoleTLSCACert, Path: cfg.Server.TLSCA})
		}
	}
	license := cfg.License.File
	if license == "" {
		license = filepath.Join(cfg.Server.DataDir, "license.jwt")
	}
	files = append(files, KeyFile{Role: RoleLicense, Path: license})
	if cfg.License.TrustedKeysFile != "" {
		files = append(files, KeyFile{Role: RoleLicenseTrustedKeys, Path: cfg.License.TrustedKeysFile})
	}
	return files
}

// validate checks what Restore relies on: a known format, known roles under their
// names, exactly one dump, and no name twice.
func (m Manifest) validate() error {
	if m.Format != Format {
		return fmt.Errorf("archive format %d is not supported by this binary (it reads format %d)", m.Format, Format)
	}
	seen := map[string]bool{}
	dumps := 0
	for _, f := range m.Files {
		want, ok := entryNames[f.Role]
		if !ok {
			return fmt.Errorf("manifest names an unknown role %q", f.Role)
		}
		if f.Name != want {
			return fmt.Errorf("manifest names %q for role %s, expected %q", f.Name, f.Role, want)
		}
		if seen[f.Name] {
			return fmt.Errorf("manifest names %s twice", f.Name)
		}
		seen[f.Name] = true
		if f.Role == RoleDatabase {
			dumps++
		}
		if f.Size < 0 || len(f.SHA256) != 64 {
			return fmt.Errorf("manifest entry %s has no valid size and SHA-256", f.Name)
		}
	}
	if dumps != 1 {
		return fmt.Errorf("manifest names %d database dumps, expected 1", dumps)
	}
	return nil
}
