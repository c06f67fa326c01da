import sys

from courseadmin.cli import main

sys.exit(main())
