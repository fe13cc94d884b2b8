package sshca

// The files OpenWatch keeps on a host, written by the enrollment script and rewritten by
// every delivery (the one layout both use): the trusted user CA keys and the KRL under
// LayoutDir, and one sshd drop-in (DropIn) naming them and, once installed, the host
// certificate.
const (
	// LayoutDir holds OpenWatch's files on a host.
	LayoutDir = "/etc/ssh/openwatch"
	// UserCAKeysPath is sshd's TrustedUserCAKeys file: the ready lines of the user CA
	// (the active key and the keys still in their overlap).
	UserCAKeysPath = LayoutDir + "/user_ca_keys.pub"
	// KRLPath is sshd's RevokedKeys file: the KRL the API serves.
	KRLPath = LayoutDir + "/revoked_keys.krl"
	// DropInDir is the sshd drop-in directory the host's sshd_config includes.
	DropInDir = "/etc/ssh/sshd_config.d"
	// DropInPath is OpenWatch's sshd drop-in; it sorts before the usual 50-… drop-ins, so
	// its settings win (sshd takes the first value it reads).
	DropInPath = DropInDir + "/40-openwatch.conf"
	// HostKeyDir holds the host keys and the host certificate next to them.
	HostKeyDir = "/etc/ssh"
	// The files of the previous layout, removed by delivery when present.
	legacyDropInPath = DropInDir + "/50-openwatch-certificate.conf"
	legacyKRLPath    = HostKeyDir + "/openwatch_revoked_keys"
)

// dropInHead is the drop-in without a host certificate.
const dropInHead = "# Written by OpenWatch (enrollment and certificate delivery); rewritten on each delivery.\n" +
	"TrustedUserCAKeys " + UserCAKeysPath + "\n" +
	"RevokedKeys " + KRLPath + "\n"

// HostCertificateDirective starts the drop-in's last line once a host certificate is
// installed: the directive, a space and the certificate's path.
const HostCertificateDirective = "HostCertificate"

// DropIn returns the content of DropInPath: the trusted user CA keys, the KRL and, when
// hostCertificate (a path) is not empty, the host certificate. The enrollment script
// writes the same bytes for the same state.
func DropIn(hostCertificate string) string {
	if hostCertificate == "" {
		return dropInHead
	}
	return dropInHead + HostCertificateDirective + " " + hostCertificate + "\n"
}

// HostCertificatePath returns where the certificate of a host key of keyType is
// installed, next to the key (ssh_host_<type>_key-cert.pub).
func HostCertificatePath(keyType string) (string, error) {
	t, err := keyFileType(keyType)
	if err != nil {
		return "", err
	}
	return HostKeyDir + "/ssh_host_" + t + "_key-cert.pub", nil
}
