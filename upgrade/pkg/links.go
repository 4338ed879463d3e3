package pkg

import (
	"fmt"
	"path"
	"strings"
)

// LinkTree tells what a root-relative, slash-separated path is before a package is
// applied: the target of a symbolic link there (isLink), or no link (a folder, a file,
// nothing). Its parents are never links when it is asked.
type LinkTree func(p string) (target string, isLink bool, err error)

// NoLinks is an empty tree: a package checked alone.
func NoLinks(string) (string, bool, error) { return "", false, nil }

// maxLinkHops is Linux's limit on the links one lookup follows (MAXSYMLINKS).
const maxLinkHops = 40

// Over is tree with m applied: m's links added, the paths it writes or deletes no link
// any more. The tree a later package of a chain is checked against.
func (m *Manifest) Over(tree LinkTree) LinkTree {
	files := make(map[string]File, len(m.Files))
	for _, f := range m.Files {
		files[f.Path] = f
	}
	gone := make(map[string]bool, len(m.Delete))
	for _, p := range m.Delete {
		gone[p] = true
	}
	return func(p string) (string, bool, error) {
		if f, ok := files[p]; ok {
			return f.Link, f.Link != "", nil
		}
		if gone[p] {
			return "", false, nil
		}
		return tree(p)
	}
}

// CheckLinks checks m against tree (the installation, with the earlier packages of a
// chain applied) as the file system would see it once m is applied: every link m makes
// is resolved step by step, each link met on the way followed (a/b/l1 -> .. and
// l2 -> a/b/l1/../.. end in the root's parent: refused), and no path m writes or deletes
// lies below a link, of the installation's or of m's.
func (m *Manifest) CheckLinks(tree LinkTree) error {
	after := m.Over(tree)
	for _, f := range m.Files {
		if err := belowLink(f.Path, after); err != nil {
			return err
		}
	}
	for _, p := range m.Delete {
		if err := belowLink(p, tree); err != nil {
			return err
		}
	}
	for _, f := range m.Files {
		if f.Link == "" {
			continue
		}
		if err := resolve(path.Dir(f.Path), f.Link, after); err != nil {
			return fmt.Errorf("manifest: link %q -> %q: %w", f.Path, f.Link, err)
		}
	}
	return nil
}

// belowLink refuses p when one of its folders is a link in tree.
func belowLink(p string, tree LinkTree) error {
	parts := strings.Split(p, "/")
	for i := 1; i < len(parts); i++ {
		d := strings.Join(parts[:i], "/")
		target, isLink, err := tree(d)
		if err != nil {
			return fmt.Errorf("check %q: %w", d, err)
		}
		if isLink {
			return fmt.Errorf("manifest: %q lies below the link %q (-> %s): nothing is written through a link", p, d, target)
		}
	}
	return nil
}

// resolve follows target from the folder dir as a lookup would, one name at a time.
func resolve(dir, target string, tree LinkTree) error {
	var stack []string
	if dir != "." {
		stack = strings.Split(dir, "/")
	}
	hops := 0
	parts := splitTarget(target)
	if parts == nil {
		return fmt.Errorf("the target %q is absolute: it leaves the installation", target)
	}
	for len(parts) > 0 {
		part := parts[0]
		parts = parts[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return fmt.Errorf("it leaves the installation's root")
			}
			stack = stack[:len(stack)-1]
			continue
		}
		cur := strings.Join(append(stack[:len(stack):len(stack)], part), "/")
		next, isLink, err := tree(cur)
		if err != nil {
			return fmt.Errorf("check %q: %w", cur, err)
		}
		if !isLink {
			stack = append(stack, part)
			continue
		}
		if hops++; hops > maxLinkHops {
			return fmt.Errorf("more than %d links on the way (a loop)", maxLinkHops)
		}
		np := splitTarget(next)
		if np == nil {
			return fmt.Errorf("on the way, %q -> %q is absolute: it leaves the installation", cur, next)
		}
		parts = append(np, parts...)
	}
	if len(stack) == 0 {
		return fmt.Errorf("it names the installation's root")
	}
	return nil
}

// splitTarget splits a link target into names, or nil when it is absolute (a Windows
// target's backslashes read as slashes).
func splitTarget(t string) []string {
	t = strings.ReplaceAll(t, `\`, "/")
	if t == "" || strings.HasPrefix(t, "/") || strings.Contains(t, ":") {
		return nil
	}
	return strings.Split(t, "/")
}
