"""``python -m ionmd.cli``: the ``ionmd`` command."""

import sys

from ionmd.cli import main

sys.exit(main())
