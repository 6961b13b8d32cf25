"""`python -m pynetns`: the command line (pynetns.cli)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
