"""Sub-commands of `acd117`. Each registers itself with `acd.cli.command`."""
