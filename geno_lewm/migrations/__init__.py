"""Schema migrations. Importing this package registers every shipped migration."""

from geno_lewm.migrations import calibration_0_to_1  # noqa: F401
