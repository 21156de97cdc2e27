"""Our torch implementation of the FASHN VTON v1.5 generator and of the DWPose stand-ins (export and tests only)."""
