"""``python -m frs``: the same CLI as the ``frs`` command."""

from frs.cli.main import main

raise SystemExit(main())
