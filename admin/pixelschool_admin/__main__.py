import sys

from pixelschool_admin.cli import main

sys.exit(main())
