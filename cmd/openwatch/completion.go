package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// subcommands are the second words of the commands that have them, for completion.
var subcommands = map[string][]string{
	"hosts":      {"list", "add", "show"},
	"alerts":     {"list"},
	"audit":      {"export"},
	"report":     {"generate"},
	"feeds":      {"import"},
	"dev":        {"seed"},
	"completion": {"bash", "zsh", "fish"},
}

// completionFlags are the flags offered after the client commands.
var completionFlags = map[string][]string{
	"login":  {"--url", "--cacert", "--username", "--otp"},
	"hosts":  {"--url", "--cacert", "--output", "--q", "--tag", "--environment", "--limit", "--address", "--port", "--username", "--display-name"},
	"scan":   {"--url", "--cacert", "--output", "--wait", "--framework", "--rule", "--fail-on-findings", "--timeout", "--no-progress", "--poll-interval"},
	"alerts": {"--url", "--cacert", "--output", "--state", "--severity", "--host", "--since", "--limit"},
	"audit":  {"--url", "--cacert", "--format", "--out", "--since", "--until", "--action", "--resource-type"},
	"report": {"--url", "--cacert", "--output", "--kind", "--scope", "--framework", "--since", "--until", "--min-severity", "--wait", "--format", "--out", "--timeout", "--poll-interval"},
	"api":    {"--url", "--token", "--token-id", "--signing-key", "--data", "--cacert", "--idempotency-key"},
}

func runCompletion(_ context.Context, e env, args []string) error {
	if len(args) != 1 {
		return usageErr("want the shell: openwatch completion bash|zsh|fish")
	}
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	var b strings.Builder
	switch args[0] {
	case "bash", "zsh":
		if args[0] == "zsh" {
			b.WriteString("#compdef openwatch\n# zsh completion for openwatch: source it, or save it as _openwatch on $fpath.\nautoload -U +X bashcompinit && bashcompinit\n")
		} else {
			b.WriteString("# bash completion for openwatch: source it, or save it in /etc/bash_completion.d/openwatch.\n")
		}
		b.WriteString("_openwatch() {\n  local cur=\"${COMP_WORDS[COMP_CWORD]}\" cmd=\"${COMP_WORDS[1]}\"\n")
		fmt.Fprintf(&b, "  if [ \"$COMP_CWORD\" -eq 1 ]; then COMPREPLY=($(compgen -W %q -- \"$cur\")); return; fi\n", strings.Join(names, " "))
		b.WriteString("  case \"$cur\" in -*)\n    case \"$cmd\" in\n")
		for _, k := range sortedKeys(completionFlags) {
			fmt.Fprintf(&b, "      %s) COMPREPLY=($(compgen -W %q -- \"$cur\"));;\n", k, strings.Join(completionFlags[k], " "))
		}
		b.WriteString("    esac; return;;\n  esac\n")
		b.WriteString("  if [ \"$COMP_CWORD\" -eq 2 ]; then\n    case \"$cmd\" in\n")
		for _, k := range sortedKeys(subcommands) {
			fmt.Fprintf(&b, "      %s) COMPREPLY=($(compgen -W %q -- \"$cur\"));;\n", k, strings.Join(subcommands[k], " "))
		}
		b.WriteString("    esac\n  fi\n}\ncomplete -o default -F _openwatch openwatch\n")
	case "fish":
		b.WriteString("# fish completion for openwatch: save it as ~/.config/fish/completions/openwatch.fish.\n")
		for _, c := range commands() {
			fmt.Fprintf(&b, "complete -c openwatch -f -n __fish_use_subcommand -a %s -d %s\n", c.name, fishQuote(firstSentence(c.summary)))
		}
		for _, k := range sortedKeys(subcommands) {
			fmt.Fprintf(&b, "complete -c openwatch -f -n '__fish_seen_subcommand_from %s' -a %q\n", k, strings.Join(subcommands[k], " "))
		}
		for _, k := range sortedKeys(completionFlags) {
			for _, f := range completionFlags[k] {
				fmt.Fprintf(&b, "complete -c openwatch -n '__fish_seen_subcommand_from %s' -l %s\n", k, strings.TrimPrefix(f, "--"))
			}
		}
	default:
		return usageErr("unknown shell %q: want bash, zsh or fish", args[0])
	}
	_, err := fmt.Fprint(e.stdout, b.String())
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i > 0 {
		return s[:i]
	}
	return strings.TrimSuffix(s, ".")
}

func fishQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }
