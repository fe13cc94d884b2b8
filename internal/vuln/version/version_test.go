package version

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// genDebVersion writes a random, valid Debian version from the pieces that make dpkg's
// ordering interesting: epochs, tildes, plus signs, dots, revisions and runs of letters and
// digits (with leading zeros).
func genDebVersion(r *rand.Rand) string {
	var b strings.Builder
	if r.IntN(4) == 0 {
		fmt.Fprintf(&b, "%d:", r.IntN(3))
	}
	b.WriteString(strconv.Itoa(r.IntN(12)))
	hasRev := r.IntN(3) > 0
	for range r.IntN(5) {
		switch r.IntN(9) {
		case 0, 1, 2:
			b.WriteString("." + strconv.Itoa(r.IntN(20)))
		case 3:
			b.WriteString("~" + []string{"rc", "beta", "", "a", "dfsg"}[r.IntN(5)] + strconv.Itoa(r.IntN(3)))
		case 4:
			b.WriteString("+" + []string{"dfsg", "b", "deb12u", "ds", "really"}[r.IntN(5)] + strconv.Itoa(r.IntN(4)))
		case 5:
			b.WriteString([]string{"a", "b", "z", "p", "A", "Z"}[r.IntN(6)])
		case 6:
			b.WriteString("0" + strconv.Itoa(r.IntN(10)))
		case 7:
			b.WriteString("~")
		case 8:
			if hasRev {
				b.WriteString("-" + strconv.Itoa(r.IntN(5)))
			} else {
				b.WriteString("." + strconv.Itoa(r.IntN(3)))
			}
		}
	}
	if hasRev {
		b.WriteString("-" + strconv.Itoa(r.IntN(6)))
		for range r.IntN(3) {
			switch r.IntN(5) {
			case 0:
				b.WriteString("ubuntu" + strconv.Itoa(r.IntN(4)))
			case 1:
				b.WriteString("+deb" + strconv.Itoa(11+r.IntN(2)) + "u" + strconv.Itoa(r.IntN(4)))
			case 2:
				b.WriteString("~" + strconv.Itoa(r.IntN(3)))
			case 3:
				b.WriteString("." + strconv.Itoa(r.IntN(4)))
			case 4:
				b.WriteString("build" + strconv.Itoa(r.IntN(3)))
			}
		}
	}
	return b.String()
}

// mutate returns a version close to v, so pairs share prefixes as real upgrades do.
func mutate(r *rand.Rand, v string) string {
	switch r.IntN(6) {
	case 0:
		return v + "~" + strconv.Itoa(r.IntN(3))
	case 1:
		return v + "+" + strconv.Itoa(r.IntN(3))
	case 2:
		return v + "." + strconv.Itoa(r.IntN(3))
	case 3:
		if i := strings.LastIndexAny(v, "0123456789"); i >= 0 {
			d := v[i] - '0'
			return v[:i] + strconv.Itoa(int(d+1)%10) + v[i+1:]
		}
	case 4:
		if strings.Contains(v, ":") {
			return v[strings.Index(v, ":")+1:]
		}
		return "1:" + v
	}
	return v + "a"
}

// TestCompareDpkgAgainstDpkg orders a few thousand generated pairs with the library and
// with the real dpkg --compare-versions (one shell process for the lot) and demands the
// same answer for every pair.
func TestCompareDpkgAgainstDpkg(t *testing.T) {
	dpkg, err := exec.LookPath("dpkg")
	require.NoError(t, err, "this test needs dpkg (apt-get install dpkg) to check the ordering against it")

	r := rand.New(rand.NewPCG(16, 2026))
	const n = 3000
	pairs := make([][2]string, 0, n)
	for len(pairs) < n {
		a := genDebVersion(r)
		var b string
		switch r.IntN(3) {
		case 0:
			b = genDebVersion(r)
		case 1:
			b = mutate(r, a)
		default:
			b = mutate(r, mutate(r, a))
		}
		if r.IntN(10) == 0 {
			b = a
		}
		pairs = append(pairs, [2]string{a, b})
	}

	var script bytes.Buffer
	script.WriteString("c() { if " + dpkg + " --compare-versions \"$1\" lt \"$2\"; then echo -1; elif " + dpkg +
		" --compare-versions \"$1\" eq \"$2\"; then echo 0; else echo 1; fi; }\n")
	for _, p := range pairs {
		fmt.Fprintf(&script, "c '%s' '%s'\n", p[0], p[1])
	}
	cmd := exec.Command("sh")
	cmd.Stdin = &script
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	require.Empty(t, stderr.String(), "dpkg warned about a generated version")

	sc := bufio.NewScanner(bytes.NewReader(out))
	i := 0
	kinds := map[int]int{}
	for sc.Scan() {
		require.Less(t, i, len(pairs))
		want, err := strconv.Atoi(sc.Text())
		require.NoError(t, err)
		got, err := CompareDpkg(pairs[i][0], pairs[i][1])
		require.NoError(t, err, "pair %q %q", pairs[i][0], pairs[i][1])
		require.Equal(t, want, sign(got), "dpkg --compare-versions %q %q", pairs[i][0], pairs[i][1])
		kinds[want]++
		i++
	}
	require.Equal(t, len(pairs), i)
	// The generator must exercise every outcome, or the test proves little.
	for _, k := range []int{-1, 0, 1} {
		require.Greater(t, kinds[k], n/20, "outcome %d", k)
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// TestCompareRpm checks rpm ordering on the cases of rpm's own rpmvercmp test suite
// (tildes, carets, letters against digits, leading zeros) plus epochs and releases. This
// machine has no rpm to ask, so the cases are tabled.
func TestCompareRpm(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0}, {"1.0", "2.0", -1}, {"2.0", "1.0", 1},
		{"2.0.1", "2.0.1", 0}, {"2.0", "2.0.1", -1}, {"2.0.1a", "2.0.1", 1},
		{"5.5p1", "5.5p2", -1}, {"5.5p10", "5.5p1", 1}, {"10xyz", "10.1xyz", -1},
		{"xyz10", "xyz10.1", -1}, {"xyz.4", "8", -1}, {"8", "xyz.4", 1}, {"xyz.4", "2", -1},
		{"5.5p2", "5.6p1", -1}, {"5.6p1", "6.5p1", -1}, {"6.0.rc1", "6.0", 1},
		{"10b2", "10a1", 1}, {"10a2", "10b2", -1}, {"1.0aa", "1.0aa", 0}, {"1.0a", "1.0aa", -1},
		{"10.0001", "10.1", 0}, {"10.0001", "10.0039", -1}, {"4.999.9", "5.0", -1},
		{"20101121", "20101122", -1}, {"2_0", "2_0", 0}, {"2.0", "2_0", 0},
		{"1.0~rc1", "1.0~rc1", 0}, {"1.0~rc1", "1.0", -1}, {"1.0", "1.0~rc1", 1},
		{"1.0~rc1", "1.0~rc2", -1}, {"1.0~rc1~git123", "1.0~rc1", -1},
		{"1.0^", "1.0^", 0}, {"1.0^", "1.0", 1}, {"1.0", "1.0^", -1}, {"1.0^git1", "1.0", 1},
		{"1.0^git1", "1.0^git2", -1}, {"1.0^git1", "1.01", -1}, {"1.0^20160101", "1.0.1", -1},
		{"1.0~rc1^git1", "1.0~rc1", 1}, {"1.0~rc1^git1", "1.0", -1},
		{"1:1.0", "2.0", 1}, {"0:1.0", "1.0", 0}, {"1:1.0-1", "1:1.0-2", -1},
		{"2.34-60.el9", "2.34-60.el9_2.7", -1}, {"3.0.7-24.el9", "3.0.7-27.el9", -1},
		{"1.2.3-1.el9", "1.2.3-1.el9", 0},
	}
	for _, c := range cases {
		require.Equal(t, c.want, sign(CompareRpm(c.a, c.b)), "rpmvercmp %q %q", c.a, c.b)
		got, err := Compare("AlmaLinux:9", c.a, c.b)
		require.NoError(t, err)
		require.Equal(t, c.want, sign(got))
	}
}

func TestCompareEcosystems(t *testing.T) {
	for eco, want := range map[string]Scheme{"Debian:12": Dpkg, "Ubuntu:22.04:LTS": Dpkg, "Ubuntu:24.10": Dpkg,
		"Red Hat:enterprise_linux:9::baseos": Rpm, "AlmaLinux:9": Rpm, "Rocky Linux:9": Rpm, "PyPI": Unknown} {
		require.Equal(t, want, SchemeOf(eco), eco)
	}
	_, err := Compare("PyPI", "1", "2")
	require.Error(t, err)
	_, err = Compare("Debian:12", "not a version", "1.0")
	require.Error(t, err)
	got, err := Compare("Debian:12", "1:1.0", "2.0")
	require.NoError(t, err)
	require.Equal(t, 1, sign(got))
	require.True(t, Valid("Debian:12", "1.2-3"))
	require.False(t, Valid("Debian:12", "-1"))
}
