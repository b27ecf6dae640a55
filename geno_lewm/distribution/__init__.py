"""Getting published models onto a machine: the release index and the side-by-side installer."""
