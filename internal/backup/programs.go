package backup

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/openwatch/openwatch/internal/pg/cluster"
)

// program is a PostgreSQL client program and its version.
type program struct {
	path    string
	version string // its --version line, such as "pg_dump (PostgreSQL) 15.18"
	major   int
}

var versionRE = regexp.MustCompile(`\(PostgreSQL\)\s+(\d+)`)

// findProgram locates name (pg_dump or pg_restore): beside the managed cluster's server
// programs when managed, else on $PATH; binDir, when set, wins over both.
func findProgram(ctx context.Context, name, binDir string, managed bool) (program, error) {
	var path string
	switch {
	case binDir != "":
		path = filepath.Join(binDir, name)
	case managed:
		dir, _, err := cluster.Programs("")
		if err != nil {
			return program{}, err
		}
		path = filepath.Join(dir, name)
	default:
		p, err := exec.LookPath(name)
		if err != nil {
			return program{}, fmt.Errorf("%s not found on PATH: install the PostgreSQL client programs of the server's major version or newer (apt-get install postgresql-client), or pass --pg-bin-dir", name)
		}
		path = p
	}
	if _, err := os.Stat(path); err != nil {
		return program{}, fmt.Errorf("%s not found: %w", name, err)
	}
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return program{}, fmt.Errorf("run %s --version: %w", path, err)
	}
	p := program{path: path, version: strings.TrimSpace(string(out))}
	m := versionRE.FindStringSubmatch(p.version)
	if m == nil {
		return program{}, fmt.Errorf("%s: unrecognised version %q", path, p.version)
	}
	p.major, _ = strconv.Atoi(m[1])
	return p, nil
}

// pgxOnly are connection parameters pgx understands and libpq refuses.
var pgxOnly = map[string]bool{
	"pool_max_conns": true, "pool_min_conns": true, "pool_min_idle_conns": true, "pool_max_conn_lifetime": true,
	"pool_max_conn_idle_time": true, "pool_health_check_period": true, "pool_max_conn_lifetime_jitter": true,
	"statement_cache_capacity": true, "description_cache_capacity": true, "default_query_exec_mode": true,
	"min_read_buffer_size": true,
}

// libpqConn turns a pgx DSN (URL or keyword/value) into a keyword/value conninfo for
// pg_dump and pg_restore without the password, and the password for PGPASSWORD, so it
// never shows in the process list. Parameters only pgx knows are left out.
func libpqConn(dsn string) (conninfo, password string, err error) {
	params, err := parseDSN(dsn)
	if err != nil {
		return "", "", err
	}
	password = params["password"]
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "password" && !pgxOnly[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := strings.ReplaceAll(strings.ReplaceAll(params[k], `\`, `\\`), `'`, `\'`)
		parts = append(parts, k+"='"+v+"'")
	}
	return strings.Join(parts, " "), password, nil
}

// parseDSN returns the parameters of a PostgreSQL URL or keyword/value string.
func parseDSN(dsn string) (map[string]string, error) {
	params := map[string]string{}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return nil, errors.New("database dsn is not a valid URL")
		}
		if u.User != nil {
			params["user"] = u.User.Username()
			if pw, ok := u.User.Password(); ok {
				params["password"] = pw
			}
		}
		var hosts, ports []string
		for _, hp := range strings.Split(u.Host, ",") {
			if hp == "" {
				continue
			}
			h, p := hp, ""
			if i := strings.LastIndex(hp, ":"); i >= 0 && !strings.HasSuffix(hp, "]") {
				h, p = hp[:i], hp[i+1:]
			}
			hosts = append(hosts, strings.Trim(h, "[]"))
			ports = append(ports, p)
		}
		if len(hosts) > 0 {
			params["host"] = strings.Join(hosts, ",")
			if strings.Join(ports, "") != "" {
				params["port"] = strings.Join(ports, ",")
			}
		}
		if db := strings.TrimPrefix(u.Path, "/"); db != "" {
			params["dbname"] = db
		}
		for k, v := range u.Query() {
			params[k] = v[len(v)-1]
		}
		return params, nil
	}
	s := strings.TrimSpace(dsn)
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, errors.New("database dsn is not a valid keyword/value string")
		}
		key := strings.TrimSpace(s[:eq])
		s = strings.TrimLeft(s[eq+1:], " \t\n")
		var val strings.Builder
		if strings.HasPrefix(s, "'") {
			s = s[1:]
			closed := false
			for i := 0; i < len(s); i++ {
				switch c := s[i]; {
				case c == '\\' && i+1 < len(s):
					i++
					val.WriteByte(s[i])
				case c == '\'':
					s, closed = s[i+1:], true
				default:
					val.WriteByte(c)
				}
				if closed {
					break
				}
			}
			if !closed {
				return nil, errors.New("database dsn has an unterminated quoted value")
			}
		} else {
			end := strings.IndexAny(s, " \t\n")
			if end < 0 {
				end = len(s)
			}
			for i := 0; i < end; i++ {
				if s[i] == '\\' && i+1 < end {
					i++
				}
				val.WriteByte(s[i])
			}
			s = s[end:]
		}
		params[key] = val.String()
		s = strings.TrimLeft(s, " \t\n")
	}
	return params, nil
}

// programEnv is the environment of a client program: this process's, with PGPASSWORD set
// when the DSN has a password.
func programEnv(password string) []string {
	env := os.Environ()
	if password != "" {
		env = append(env, "PGPASSWORD="+password)
	}
	return env
}
