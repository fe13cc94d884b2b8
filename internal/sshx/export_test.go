package sshx

// ScriptForTest returns the remote command Batch would send for cmds.
func ScriptForTest(cmds []Command, o BatchOptions) string {
	allow := o.Privileged && o.AllowSudoPassword && o.SudoPassword != ""
	return buildScript("OWXtest", cmds, o, allow)
}
