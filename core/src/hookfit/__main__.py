"""``python -m hookfit`` runs the ``hookfit`` command."""

from .cli import main

raise SystemExit(main())
