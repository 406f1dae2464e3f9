import sys

from vxlab.cli import main

sys.exit(main())
