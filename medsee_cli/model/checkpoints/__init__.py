"""Model checkpoints shipped inside the package (package data; see ../registry.yaml)."""
