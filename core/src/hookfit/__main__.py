"""``python -m hookfit`` runs the ``hookfit`` command."""

from .cli.main import main

raise SystemExit(main())
