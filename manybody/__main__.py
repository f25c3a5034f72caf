import sys

from manybody.cli import main

sys.exit(main())
