"""`torchsetup project`: the plan written into a project (uv or Poetry) and read back from it."""
