"""Training tooling for qa's models (outside the query path; needs the ``[train]`` extra)."""
