"""`python -m pose_service` runs the CLI."""

import sys

from pose_service.cli import main

if __name__ == "__main__":
    sys.exit(main())
