"""案件评查: automatic review of concluded cases, reviewer workbench, review of imported replies."""
