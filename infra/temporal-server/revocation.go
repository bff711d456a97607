package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"strings"
	"sync"
	"time"
)

// revocationList holds the serial numbers of the cluster's client certificates taken back before they
// expire (infra/nodes-revoke.sh: a node lost, stolen or retired). Its file has one serial per line,
// in hex, first on the line (the rest of the line and lines starting with # are for people). The file
// is checked at every call and read again when it changed, so a revocation holds from the next call
// on, without a restart. No file: nothing revoked. A file that cannot be read or parsed revokes every
// certificate (the error is the caller's to log) until it can: a list that is not understood must not
// let through the certificates it names.
type revocationList struct {
	path string

	mu      sync.Mutex
	stamp   fileStamp
	serials map[string]bool
	err     error
}

type fileStamp struct {
	exists  bool
	size    int64
	modTime time.Time
}

func newRevocationList(path string) *revocationList {
	return &revocationList{path: path, serials: map[string]bool{}}
}

// revoked says whether the certificate of this serial number is on the list.
func (r *revocationList) revoked(serial *big.Int) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	stamp, err := stampOf(r.path)
	if err != nil {
		return true, fmt.Errorf("the revocation list %s: %w", r.path, err)
	}
	if stamp != r.stamp || r.err != nil {
		r.serials, r.err = readRevocationList(r.path)
		r.stamp = stamp
	}
	if r.err != nil {
		return true, r.err
	}
	return r.serials[serial.Text(16)], nil
}

func stampOf(path string) (fileStamp, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileStamp{}, nil
	}
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{exists: true, size: info.Size(), modTime: info.ModTime()}, nil
}

func readRevocationList(path string) (map[string]bool, error) {
	serials := map[string]bool{}
	content, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return serials, nil
	}
	if err != nil {
		return nil, fmt.Errorf("the revocation list %s: %w", path, err)
	}
	lines := bufio.NewScanner(bytes.NewReader(content))
	for number := 1; lines.Scan(); number++ {
		fields := strings.Fields(lines.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		serial, ok := new(big.Int).SetString(strings.TrimPrefix(strings.ToLower(fields[0]), "0x"), 16)
		if !ok {
			return nil, fmt.Errorf("the revocation list %s, line %d: %q is not a serial number in hex", path, number, fields[0])
		}
		serials[serial.Text(16)] = true
	}
	return serials, nil
}
