package sshca

import (
	"encoding/binary"
	"errors"
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

// parseKRLSerials reads back the serials of a KRL encodeKRL wrote (for tests and checks).
func parseKRLSerials(b []byte) ([]uint64, error) {
	if len(b) < len(krlMagic) || string(b[:len(krlMagic)]) != krlMagic {
		return nil, errors.New("not a KRL")
	}
	b = b[len(krlMagic)+4+8+8+8:]
	var err error
	str := func() []byte {
		if err != nil || len(b) < 4 || uint32(len(b)-4) < binary.BigEndian.Uint32(b) {
			err = errors.New("truncated KRL")
			return nil
		}
		n := binary.BigEndian.Uint32(b)
		s := b[4 : 4+n]
		b = b[4+n:]
		return s
	}
	str()
	str()
	var out []uint64
	for err == nil && len(b) > 0 {
		b = b[1:]
		sec := str()
		if err != nil {
			break
		}
		outer := b
		b = sec
		str()
		str()
		for err == nil && len(b) > 0 {
			b = b[1:]
			list := str()
			for i := 0; i+8 <= len(list); i += 8 {
				out = append(out, binary.BigEndian.Uint64(list[i:]))
			}
		}
		b = outer
	}
	return out, err
}
