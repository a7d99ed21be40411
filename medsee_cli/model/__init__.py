"""The grounding model layer: LiteMedSAM (box prompt -> mask) as our own modules, checkpoints
named in a registry and verified by SHA-256, and a slice segmenter built once per process.

Importing this package is cheap; torch loads with the submodules that need it.
"""
