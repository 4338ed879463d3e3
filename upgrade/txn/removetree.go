package txn

import "omflow-upgrade/upgrade/rmtree"

// removeTree is os.RemoveAll that also works under Wine, where the Windows tests run.
var removeTree = rmtree.RemoveAll
