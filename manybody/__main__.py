import sys

from manybody.cli.main import main

sys.exit(main())
