"""The ``frs`` command line: JSON on stdout, human messages on stderr, exit 0 / 2 (bad input) / 1 (other)."""
