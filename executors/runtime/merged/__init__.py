"""Merged builds: many programs compiled as one unit. ``engine`` holds the one loop and its policy; ``cpp``,
``rust`` and ``go`` know how to merge their language without changing a program's meaning and how to pin errors
and output back on each program (each language module's ``MergedBuild`` strategy puts them together)."""
