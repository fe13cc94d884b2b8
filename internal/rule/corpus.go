package rule

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sort"
	"sync"
)

// corpusFS holds the rule files, one per rule, named <id>.yaml.
//
//go:embed corpus/*.yaml
var corpusFS embed.FS

// Embedded parses the corpus embedded in the binary. It parses on every call (about
// 400 files): callers keep the result.
func Embedded() (*Corpus, error) { return LoadFS(corpusFS, "corpus") }

// engineVersion is the version of the rule format and of the engine that evaluates it.
const engineVersion = "1.0.0"

// EngineVersion names the rule engine and the exact rule corpus this binary carries:
// "1.0.0+rules.<first 12 hex digits of the corpus digest>". Two binaries with the same
// answer evaluate hosts alike. (The API reports it as `kensa`, the field's upstream name.)
func EngineVersion() string {
	return engineVersion + "+rules." + CorpusDigest()[:12]
}

// CorpusDigest is the SHA-256 of the embedded corpus: every rule file's name and contents,
// in name order, each length-prefixed so no two corpora share a digest by concatenation.
var CorpusDigest = sync.OnceValue(func() string {
	names, err := fs.Glob(corpusFS, "corpus/*.yaml")
	if err != nil {
		panic(err) // the pattern is constant and valid
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		data, err := corpusFS.ReadFile(name)
		if err != nil {
			panic(err) // embedded files always read
		}
		for _, part := range [][]byte{[]byte(name), data} {
			var n [8]byte
			for i, l := 0, uint64(len(part)); i < 8; i++ {
				n[i] = byte(l >> (8 * (7 - i)))
			}
			h.Write(n[:])
			h.Write(part)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
})
