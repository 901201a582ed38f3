"""The schema ids of every JSON document torchsetup writes or reads (the outside contract). A leaf
module: the readers of probe and matrix files and the document builders all take them from here."""

PROBE = "torchsetup.probe/1"
RESOLVE = "torchsetup.resolve/1"
INSTALL = "torchsetup.install/1"
DOCTOR = "torchsetup.doctor/1"
VERIFY = "torchsetup.verify/1"
MATRIX = "torchsetup.matrix/1"  # the data file, and `matrix show --json` (added)
MATRIX_UPDATE = "torchsetup.matrix-update/1"  # `matrix update --json` (added)
PROJECT = "torchsetup.project/1"
