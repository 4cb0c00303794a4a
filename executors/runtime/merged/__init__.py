"""Merged builds: many programs compiled as one unit (``cpp``, ``rust``, ``go`` know how to merge their language
without changing a program's meaning, and how to pin errors and output back on each program)."""
