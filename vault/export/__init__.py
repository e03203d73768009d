"""Export bundles for the PCI SSC and clients (not built yet)."""
