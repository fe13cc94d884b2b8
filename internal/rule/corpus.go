package rule

import "embed"

// corpusFS holds the rule files, one per rule, named <id>.yaml.
//
//go:embed corpus/*.yaml
var corpusFS embed.FS

// Embedded parses the corpus embedded in the binary. It parses on every call (about
// 400 files): callers keep the result.
func Embedded() (*Corpus, error) { return LoadFS(corpusFS, "corpus") }
