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
	krlSectionExplicitKey  = 2
	krlSectionSerialList   = 0x20
)

// krlCA is the revoked serials of one CA key (its wire-format public key).
type krlCA struct {
	line    string // authorized_keys form, to group rows
	key     []byte
	serials []uint64
}

// encodeKRL renders an OpenSSH key revocation list (the format `ssh-keygen -k` writes and
// sshd's RevokedKeys and ssh's RevokedHostKeys read) revoking the given serials of each CA
// and, in an explicit-key section, the keys of keys (wire format): sshd refuses a user key
// listed there and any certificate whose CA key is listed there.
func encodeKRL(version uint64, generated time.Time, cas []krlCA, keys [][]byte) []byte {
	var b []byte
	b = append(b, krlMagic...)
	b = binary.BigEndian.AppendUint32(b, krlFormatVersion)
	b = binary.BigEndian.AppendUint64(b, version)
	b = binary.BigEndian.AppendUint64(b, uint64(generated.Unix()))
	b = binary.BigEndian.AppendUint64(b, 0) // flags
	b = appendString(b, nil)                // reserved
	b = appendString(b, []byte("OpenWatch revocations"))
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
	if len(keys) > 0 {
		var sec []byte
		for _, k := range keys {
			sec = appendString(sec, k)
		}
		b = append(b, krlSectionExplicitKey)
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
	serials, _, err := parseKRL(b)
	return serials, err
}

// parseKRL reads back the serials and the explicitly revoked keys of a KRL encodeKRL wrote.
func parseKRL(b []byte) ([]uint64, [][]byte, error) {
	if len(b) < len(krlMagic)+28 || string(b[:len(krlMagic)]) != krlMagic {
		return nil, nil, errors.New("not a KRL")
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
	var keys [][]byte
	for err == nil && len(b) > 0 {
		typ := b[0]
		b = b[1:]
		sec := str()
		if err != nil {
			break
		}
		outer := b
		b = sec
		switch typ {
		case krlSectionCertificates:
			str()
			str()
			for err == nil && len(b) > 0 {
				b = b[1:]
				list := str()
				for i := 0; i+8 <= len(list); i += 8 {
					out = append(out, binary.BigEndian.Uint64(list[i:]))
				}
			}
		case krlSectionExplicitKey:
			for err == nil && len(b) > 0 {
				if k := str(); err == nil {
					keys = append(keys, k)
				}
			}
		default:
			err = errors.New("unknown KRL section")
		}
		b = outer
	}
	return out, keys, err
}
