"""`python -m gardener` runs the CLI."""

from gardener.cli import main_entry

main_entry()
