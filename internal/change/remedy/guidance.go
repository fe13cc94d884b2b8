package remedy

import (
	"fmt"
	"strings"

	"github.com/openwatch/openwatch/internal/rule"
)

// guidance tells a person how to make the rule pass: one step per part of its check (the
// parameters with variables expanded), then what the rule says of itself.
func guidance(r *rule.Rule, parts []any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) is remediated by hand: no declarative change makes it pass.\n", r.Title, r.ID)
	if len(parts) > 1 {
		b.WriteString("Do all of the following:\n")
	}
	for i, p := range parts {
		step := describe(p)
		if len(parts) > 1 {
			step = fmt.Sprintf("%d. %s", i+1, step)
		}
		b.WriteString(step)
		if !strings.HasSuffix(step, "\n") {
			b.WriteString("\n")
		}
	}
	if d := strings.TrimSpace(r.Description); d != "" {
		b.WriteString("\nThe rule: " + d + "\n")
	}
	if rat := strings.TrimSpace(r.Rationale); rat != "" {
		b.WriteString("Why: " + rat + "\n")
	}
	b.WriteString("Then scan the host again to confirm the rule passes.\n")
	return b.String()
}

// describe says what makes one typed check pass.
func describe(p any) string {
	switch p := p.(type) {
	case *rule.ConfigValue:
		where := p.Path
		if p.DropinDir != "" {
			where += " (or a *.conf file in " + p.DropinDir + ", which wins over it)"
		}
		if p.Expected == "" {
			return fmt.Sprintf("Add the setting %s to %s.", p.Key, where)
		}
		return fmt.Sprintf("Set %s to a value %s in %s.", p.Key, valueWords(p.Comparator, p.Expected), where)
	case *rule.SSHDConfig:
		return fmt.Sprintf("Set the sshd keyword %s to a value %s in /etc/ssh/sshd_config, ahead of any other setting of it and of any Match block (or in a file of /etc/ssh/sshd_config.d that comes first), check it with `sshd -t` and reload sshd.", p.Key, valueWords(p.Comparator, p.Expected))
	case *rule.Sysctl:
		return fmt.Sprintf("Set the kernel parameter %s = %s in a file of /etc/sysctl.d and at runtime (`sysctl -w %s=%s`).", p.Key, p.Expected, p.Key, p.Expected)
	case *rule.PackageState:
		if p.State == "present" {
			return fmt.Sprintf("Install the package %s.", p.Name)
		}
		return fmt.Sprintf("Remove the package %s.", p.Name)
	case *rule.ServiceState:
		var want []string
		add := func(b *bool, yes, no string) {
			if b != nil {
				want = append(want, map[bool]string{true: yes, false: no}[*b])
			}
		}
		add(p.Enabled, "enabled", "not enabled (disable or mask it)")
		add(p.Active, "running (systemctl start)", "stopped (systemctl stop)")
		add(p.Masked, "masked (systemctl mask)", "not masked (systemctl unmask)")
		return fmt.Sprintf("Make the unit %s %s.", p.Name, strings.Join(want, ", "))
	case *rule.KernelModule:
		s := fmt.Sprintf("Add `install %s /bin/false` to a file of /etc/modprobe.d", p.Name)
		if p.State == "blacklisted" {
			s += fmt.Sprintf(" with `blacklist %s`", p.Name)
		}
		return s + fmt.Sprintf(", and unload the module if it is loaded (`modprobe -r %s`).", p.Name)
	case *rule.MountOption:
		return fmt.Sprintf("Mount %s with the options %s: add them to its line in /etc/fstab and remount it.", p.MountPoint, strings.Join(p.Options, ","))
	case *rule.FilePermission:
		var want []string
		if p.Mode != "" {
			want = append(want, "mode "+fourDigits(p.Mode)+" or stricter")
		}
		if p.Owner != "" {
			want = append(want, "owner "+p.Owner)
		}
		if p.Group != "" {
			want = append(want, "group "+p.Group)
		}
		return fmt.Sprintf("Give %s %s.", p.Path, strings.Join(want, ", "))
	case *rule.FileTree:
		var want []string
		if p.Mode != "" {
			want = append(want, "mode "+fourDigits(p.Mode)+" or stricter")
		}
		if p.Owner != "" {
			want = append(want, "owner "+p.Owner)
		}
		if p.Group != "" {
			want = append(want, "group "+p.Group)
		}
		if p.MaxGID != nil {
			want = append(want, fmt.Sprintf("a group id of at most %d", *p.MaxGID))
		}
		return fmt.Sprintf("Give every %s under %s %s.", p.Type, strings.Join(p.Roots, ", "), strings.Join(want, ", "))
	case *rule.FileExists:
		if p.Exists != nil && !*p.Exists {
			return fmt.Sprintf("Remove %s.", p.Path)
		}
		return fmt.Sprintf("Create %s.", p.Path)
	case *rule.FileContent:
		if p.Matches != "" {
			return fmt.Sprintf("Edit %s so that its content matches the regular expression %s.", p.Path, p.Matches)
		}
		return fmt.Sprintf("Make the content of %s exactly:\n%s", p.Path, indent(p.Expected))
	case *rule.AuditRule:
		if f := strings.Fields(p.Rule); len(f) == 2 && f[0] == "-k" {
			return fmt.Sprintf("Add audit rules carrying the key %s (what they watch is the site's choice) to a file of /etc/audit/rules.d and load them (`augenrules --load`).", f[1])
		}
		return fmt.Sprintf("Add the audit rule `%s` to a file of /etc/audit/rules.d and load it (`augenrules --load`).", p.Rule)
	case *rule.GrubParameter:
		param := p.Key
		if p.Expected != "" {
			param += "=" + p.Expected
		}
		return fmt.Sprintf("Add the kernel parameter %s to GRUB_CMDLINE_LINUX in /etc/default/grub (and to every boot entry: `grubby --update-kernel=ALL --args=%s` on RHEL), regenerate the boot configuration (update-grub or grub2-mkconfig) and reboot.", param, param)
	case *rule.SELinuxState:
		return fmt.Sprintf("Set SELINUX=%s in /etc/selinux/config and make it current (setenforce, or a reboot from Disabled).", strings.ToLower(p.State))
	case *rule.AppArmorState:
		if p.Enforce {
			return "Enable AppArmor (apparmor=1 security=apparmor on the kernel command line) and put every profile in enforce mode (aa-enforce /etc/apparmor.d/*)."
		}
		return "Enable AppArmor (apparmor=1 security=apparmor on the kernel command line) and start the apparmor service."
	case *rule.SystemdTarget:
		if p.Expected != "" {
			return fmt.Sprintf("Make %s the default target (`systemctl set-default %s`).", p.Expected, p.Expected)
		}
		return fmt.Sprintf("Make the default target something other than %s (`systemctl set-default multi-user.target`).", p.NotExpected)
	case *rule.Command:
		var want []string
		if p.ExitStatus != nil {
			want = append(want, fmt.Sprintf("exits with status %d", *p.ExitStatus))
		}
		if p.Output != "" {
			want = append(want, "prints output matching "+p.Output)
		}
		s := "Change the host so that this check " + strings.Join(want, " and ")
		if p.Root {
			s += " (run as root)"
		}
		s += ":\n" + indent(p.Script)
		if p.Reason != "" {
			s += "\n(" + strings.TrimSpace(p.Reason) + ")"
		}
		return s
	}
	return fmt.Sprintf("Make the check %T pass.", p)
}

func valueWords(comparator, expected string) string {
	switch comparator {
	case "", "=":
		return "of " + expected
	case "!=":
		return "other than " + expected
	case "<=":
		return "of at most " + expected
	case ">=":
		return "of at least " + expected
	case "<":
		return "below " + expected
	case ">":
		return "above " + expected
	}
	return comparator + " " + expected
}

func indent(s string) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range ls {
		ls[i] = "    " + ls[i]
	}
	return strings.Join(ls, "\n")
}
