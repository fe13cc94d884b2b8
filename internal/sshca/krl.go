package sshca

import (
	"encoding/binary"
	"time"
)

// The constants of OpenSSH's PROTOCOL.krl.
const (
	krlMagic               = "SSHKRL\n\x00"
	krlFormatVersion       = 1
	krlSectionCertificates = 1
	krlSectionSerialList   = 0x20
)

// krlCA is the revoked serials of one CA key (its wire-format public key).
type krlCA struct {
	line    string // authorized_keys form, to group rows
	key     []byte
	serials []uint64
}

// encodeKRL renders an OpenSSH key revocation list (the format `ssh-keygen -k` writes and
// sshd's RevokedKeys and ssh's RevokedHostKeys read) revoking the given serials of each CA.
func encodeKRL(version uint64, generated time.Time, cas []krlCA) []byte {
	var b []byte
	b = append(b, krlMagic...)
	b = binary.BigEndian.AppendUint32(b, krlFormatVersion)
	b = binary.BigEndian.AppendUint64(b, version)
	b = binary.BigEndian.AppendUint64(b, uint64(generated.Unix()))
	b = binary.BigEndian.AppendUint64(b, 0) // flags
	b = appendString(b, nil)                // reserved
	b = appendString(b, []byte("OpenWatch host certificate revocations"))
	for _, ca := range cas {
		var sec []byte
		sec = appendString(sec, ca.key)
		sec = appendString(sec, nil) // reserved
		var list []byte
		for _, s := range ca.serials {
			list = binary.BigEndian.AppendUint64(list, s)
		}
		sec = append(sec, krlSectionSerialList)
		sec = appendString(sec, list)
		b = append(b, krlSectionCertificates)
		b = appendString(b, sec)
	}
	return b
}

func appendString(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}
