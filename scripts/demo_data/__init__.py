"""The generator of the bundled demo landing folder (see `generate`)."""
