// Package merge decides what an update does to a config file the administrator may have
// edited (SPEC 4.8), and merges three ways when both the administrator and the release
// changed it.
//
// # Merge
//
// [Merge] is a line merge whose output is byte for byte what
// `git merge-file -p -L OURS -L BASE -L THEIRS ours base theirs` prints, with ours the
// installed copy, base the previous release's copy and theirs the package's copy. It
// also lists each conflict with its line ranges and the three texts, for the wizard's
// three-way view. It uses the standard library only: matching git byte for byte needs
// the choices of git's own diff (xdiff), which a generic diff3 module does not make,
// and administrators compare with git. The diff (diff.go) follows xdiff's algorithm
// step by step; the tests hold it against the git found on the machine.
//
// # Decide
//
// [Decide] applies the decision table below to one config file. Base is the previous
// release's copy (nil when unknown), Installed the administrator's copy (nil when the
// file is absent), Incoming the package's copy (nil when the release deletes the file),
// Choice the administrator's -config answer. "Edited" means Installed differs from Base,
// or from Incoming when no base is known. Rows are tried in order; the first that fits
// decides. Action is the word of `check -files`, Result the word of the `config` list.
//
//	| #  | situation                                  | choice | action   | result     | at the path  | also                      |
//	|----|--------------------------------------------|--------|----------|------------|--------------|---------------------------|
//	| 1  | absent, release deletes it                 | any    | keep     | kept       | stays absent |                           |
//	| 2  | absent                                     | any    | add      | replaced   | incoming     |                           |
//	| 3  | installed == incoming                      | any    | keep     | kept       | unchanged    |                           |
//	| 4  | release deletes it, installed == base      | any    | delete   | replaced   | removed      |                           |
//	| 5  | release deletes it, edited or base unknown | none   | conflict | conflict   | unchanged    | run refused               |
//	| 6  |                                            | keep   | keep     | kept       | unchanged    |                           |
//	| 7  |                                            | new    | delete   | old-saved  | removed      | installed -> .omflow-old  |
//	| 8  | base unknown (installed != incoming)       | none   | conflict | conflict   | unchanged    | run refused               |
//	| 9  |                                            | keep   | keep     | new-beside | unchanged    | incoming -> .omflow-new   |
//	| 10 |                                            | new    | replace  | old-saved  | incoming     | installed -> .omflow-old  |
//	| 11 | installed == base (not edited)             | any    | replace  | replaced   | incoming     |                           |
//	| 12 | incoming == base (release left it alone)   | any    | keep     | kept       | unchanged    |                           |
//	| 13 | both changed, merge is clean               | any    | merge    | merged     | merged text  |                           |
//	| 14 | both changed, merge conflicts              | none   | conflict | conflict   | unchanged    | run refused; Conflict set |
//	| 15 |                                            | keep   | keep     | new-beside | unchanged    | incoming -> .omflow-new   |
//	| 16 |                                            | new    | replace  | old-saved  | incoming     | installed -> .omflow-old  |
//
// Decision.Reason names the row's situation: gone (1), new (2), same (3), unedited (4,
// 11), edited-delete (5-7), no-base (8-10), unchanged (12), both-changed (13-16).
//
// Decisions the spec leaves open, taken here:
//   - Row 3: when the administrator's copy already equals the package's, nothing is
//     written and the result is kept (the file is left alone, which "replaced" would not
//     say).
//   - Row 2: a config file the installation lacks is added; the config list says
//     replaced (the package's copy is what is there now), check -files says add.
//   - Rows 4-7: a release deleting a config file is the same question as changing it:
//     an unedited copy goes (result replaced, action delete), an edited one is a
//     conflict unless the administrator chose.
//   - Rows 8-10: without a base there is no three-way merge, and no two-way merge is
//     attempted either: with no ancestor, a two-way diff cannot tell the administrator's
//     edits from the release's, and guessing with a production server's settings is
//     worse than asking.
//   - A choice only settles conflicts: with -config keep or new, a clean merge is still
//     merged and an unedited file still replaced.
//   - Bytes are compared exactly: a copy that differs only in line endings or a final
//     newline is edited.
//
// Empty files are files: pass a non-nil empty slice for an empty file, nil only for an
// absent one (or an unknown base).
package merge
