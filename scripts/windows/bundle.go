//go:build ignore

// bundle makes the self-contained update program: the wizard's .exe with an update
// package appended (upgrade/bundle), or says which package a program carries.
//
//	go run scripts/windows/bundle.go -exe omflow-upgrade-wizard.exe -package omflow_update_1_2_0_0.tar.gz -out omflow_update_1_2_0_0.exe
//	go run scripts/windows/bundle.go -find omflow_update_1_2_0_0.exe
//
// Sign the result afterwards (scripts/windows/sign.sh): the signature then covers the
// package.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"omflow-upgrade/upgrade/bundle"
)

func main() {
	exe := flag.String("exe", "", "the update program as built (not signed yet)")
	pkgPath := flag.String("package", "", "the signed update package (.tar.gz or .zip)")
	out := flag.String("out", "", "the self-contained update program to write")
	find := flag.String("find", "", "print the package a program carries (name, size) and check its bytes")
	flag.Parse()
	switch {
	case *find != "" && *exe == "" && *pkgPath == "" && *out == "":
		e, err := bundle.Find(*find)
		if errors.Is(err, bundle.ErrNotBundled) {
			fmt.Fprintln(os.Stderr, "bundle:", err)
			os.Exit(3)
		}
		check(err)
		dir, err := os.MkdirTemp("", "omflow-bundle-")
		check(err)
		defer os.RemoveAll(dir)
		_, err = e.Extract(dir)
		check(err)
		fmt.Printf("%s %d bytes at offset %d, SHA-256 %x\n", e.Name, e.Size, e.Offset, e.SHA256)
	case *exe != "" && *pkgPath != "" && *out != "" && *find == "":
		check(bundle.Append(*exe, *pkgPath, *out))
		fmt.Printf("%s: %s with %s inside\n", *out, *exe, *pkgPath)
	default:
		fmt.Fprintln(os.Stderr, "usage: bundle -exe PROGRAM.exe -package PACKAGE -out OUT.exe | bundle -find PROGRAM.exe")
		os.Exit(2)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bundle:", err)
		os.Exit(1)
	}
}
