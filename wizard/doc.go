// Package wizard is a small, generic Fyne wizard: a list of steps shown one at a time with
// Back, Next and Cancel, a step list on the side, a helper for long work (progress bar and
// live log) and error dialogs. It knows nothing of the program that uses it: every label is
// supplied by the caller, so a change of language relabels everything at once.
package wizard
