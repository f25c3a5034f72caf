import sys

from manybody.cli import command_line

sys.exit(command_line())
