"""`python -m modelhub`: the command line, as the `modelhub` command runs it."""

import sys

from modelhub.cli import main

sys.exit(main())
