"""`python -m medsee_cli` runs the CLI (same as the `medsee` command)."""

from medsee_cli.cli.app import main

main()
