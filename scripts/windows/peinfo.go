//go:build ignore

// peinfo prints what scripts/check-exe.sh checks in a Windows program, one "key=value" a
// line: the subsystem (2 GUI, 3 console), the manifest's requested execution level, the
// version resource's file version, and how many icons and icon groups the resources hold.
//
//	go run scripts/windows/peinfo.go PROGRAM.exe
package main

import (
	"debug/pe"
	"encoding/binary"
	"fmt"
	"os"
	"regexp"
)

const (
	rtIcon      = 3
	rtGroupIcon = 14
	rtVersion   = 16
	rtManifest  = 24
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run scripts/windows/peinfo.go PROGRAM.exe")
		os.Exit(2)
	}
	f, err := pe.Open(os.Args[1])
	if err != nil {
		fail(err)
	}
	defer f.Close()
	var subsystem uint16
	var dirs []pe.DataDirectory
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader64:
		subsystem, dirs = oh.Subsystem, oh.DataDirectory[:oh.NumberOfRvaAndSizes]
	case *pe.OptionalHeader32:
		subsystem, dirs = oh.Subsystem, oh.DataDirectory[:oh.NumberOfRvaAndSizes]
	default:
		fail(fmt.Errorf("no optional header"))
	}
	fmt.Printf("subsystem=%d\n", subsystem)
	if len(dirs) > pe.IMAGE_DIRECTORY_ENTRY_SECURITY && dirs[pe.IMAGE_DIRECTORY_ENTRY_SECURITY].Size > 0 {
		fmt.Println("signature=present")
	} else {
		fmt.Println("signature=none")
	}
	res := map[uint32][][]byte{}
	if len(dirs) > pe.IMAGE_DIRECTORY_ENTRY_RESOURCE && dirs[pe.IMAGE_DIRECTORY_ENTRY_RESOURCE].Size > 0 {
		rva := dirs[pe.IMAGE_DIRECTORY_ENTRY_RESOURCE].VirtualAddress
		for _, s := range f.Sections {
			if rva >= s.VirtualAddress && rva < s.VirtualAddress+s.VirtualSize {
				data, err := s.Data()
				if err != nil {
					fail(err)
				}
				r := rsrc{data: data, base: rva - s.VirtualAddress, secRVA: s.VirtualAddress}
				r.walk(0, 0, 0, res)
			}
		}
	}
	level := "none"
	for _, m := range res[rtManifest] {
		if sm := regexp.MustCompile(`requestedExecutionLevel\s+level="([A-Za-z]+)"`).FindSubmatch(m); sm != nil {
			level = string(sm[1])
		} else {
			level = "unspecified"
		}
	}
	fmt.Printf("execution-level=%s\n", level)
	version := "none"
	for _, v := range res[rtVersion] {
		// VS_FIXEDFILEINFO starts with the signature 0xFEEF04BD.
		for i := 0; i+52 <= len(v); i += 4 {
			if binary.LittleEndian.Uint32(v[i:]) == 0xFEEF04BD {
				ms, ls := binary.LittleEndian.Uint32(v[i+8:]), binary.LittleEndian.Uint32(v[i+12:])
				version = fmt.Sprintf("%d.%d.%d.%d", ms>>16, ms&0xffff, ls>>16, ls&0xffff)
				break
			}
		}
	}
	fmt.Printf("file-version=%s\n", version)
	fmt.Printf("icons=%d\nicon-groups=%d\n", len(res[rtIcon]), len(res[rtGroupIcon]))
}

type rsrc struct {
	data   []byte
	base   uint32 // offset of the resource directory in data
	secRVA uint32
}

// walk reads the directory at off (relative to the resource directory); level 0 is the
// type, 1 the name, 2 the language, whose entries point at data.
func (r rsrc) walk(off uint32, level int, typ uint32, out map[uint32][][]byte) {
	d := r.data[r.base+off:]
	if len(d) < 16 {
		fail(fmt.Errorf("resource directory cut short"))
	}
	n := int(binary.LittleEndian.Uint16(d[12:])) + int(binary.LittleEndian.Uint16(d[14:]))
	for i := 0; i < n; i++ {
		e := d[16+8*i:]
		name, to := binary.LittleEndian.Uint32(e), binary.LittleEndian.Uint32(e[4:])
		t := typ
		if level == 0 {
			t = name // named types (high bit set) are not the ones checked
		}
		if to&0x80000000 != 0 {
			r.walk(to&0x7fffffff, level+1, t, out)
			continue
		}
		leaf := r.data[r.base+to:]
		rva, size := binary.LittleEndian.Uint32(leaf), binary.LittleEndian.Uint32(leaf[4:])
		start := rva - r.secRVA
		if uint64(start)+uint64(size) > uint64(len(r.data)) {
			fail(fmt.Errorf("resource data outside its section"))
		}
		out[t] = append(out[t], r.data[start:start+size])
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "peinfo:", err)
	os.Exit(1)
}
