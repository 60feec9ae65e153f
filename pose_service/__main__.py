"""`python -m pose_service` runs the CLI."""

import sys

from pose_service.cli import main

sys.exit(main())
