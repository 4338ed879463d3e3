package txn

import "io/fs"

// Files the update writes keep the owner, group and mode of what they replace, and new
// files those of their folder (SPEC 4.9): OMFLOW often runs as www-data under Apache's
// mod_wsgi, and a root-owned db.omflow or settings.py stops it, though the update ran
// as root. Prepare gives every staged copy its final owner, group, mode and security
// label while the service still runs, so that Apply stays renames only and the journal
// needs nothing more (a crash finds the staged copies as Prepare left them):
//
//   - Replace: the owner and group of the file it replaces; its permission bits too,
//     plus each execute bit the package's file has for a class (owner, group, others)
//     that may read it: a release that makes a script executable still works, and no
//     execute bit is taken away (keptMode). Set-id bits are not carried over to new
//     content. When either side is a symbolic link, the package's mode stays.
//   - Add: the owner and group of its folder (for a folder the run creates, of the
//     nearest folder that exists); the package's mode.
//   - Op.Like (a copy saved beside a file: settings.py.omflow-old, .omflow-new): as a
//     Replace of that file, owner, group and mode, whether the copy is new or not.
//   - Folders the run creates: the owner and group of their parent, the journaled mode.
//   - The security label (SELinux's security.selinux extended attribute), where the
//     file system keeps one: a Replace's and a Like's is copied from that file; an
//     Add's, lacking libselinux and its policy (which restorecon would ask for the
//     path's default), is the label of an existing file of the folder with the same
//     extension, else of any file there, else the folder's own; a new folder takes its
//     parent's. A file system without labels is skipped silently.
//   - Symbolic links get an owner (lchown) and a label, never a mode.
//   - Only root may give a file away: a run that may not is logged once and goes on
//     (a run without root can only own its own files anyway).
//   - On Windows nothing is done: a rename within a volume moves a file's security
//     descriptor with it, so a staged copy carries the ACL it inherited in the staging
//     folder (ROOT\.omflow-upgrade\staging-ID, inheriting from the root).
//
// Rollback and undo put back the originals themselves, with their own owner, mode and
// label; the full-tree backup of a legacy patch copies owners, modes, times and labels.

// keptMode is the mode a staged copy takes from the file it replaces (ref), given the
// package's mode (pkg): ref's permission bits, plus each execute bit of pkg for a class
// that ref lets read.
func keptMode(ref, pkg fs.FileMode) fs.FileMode {
	m := ref.Perm()
	readable := m & 0o444 >> 2
	return m | pkg.Perm()&0o111&readable
}
