"""The command line: ``manybody <command> ...`` (:mod:`manybody.cli.main`), one module per command."""
