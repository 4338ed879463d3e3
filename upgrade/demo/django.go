package demo

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// CheckDjango says whether python can import django.
func CheckDjango(ctx context.Context, python string) error {
	out, err := exec.CommandContext(ctx, python, "-c", "import django; print(django.get_version())").CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg == "" {
			msg = err.Error()
		} else if lines := strings.Split(msg, "\n"); len(lines) > 0 {
			msg = lines[len(lines)-1]
		}
		return fmt.Errorf("%s cannot import django (%s): OMFLOW needs Django; install Debian's python3-django (apt-get install python3-django) or give an interpreter that has it", python, msg)
	}
	return nil
}
