"""Container entry point of the GitHub Action: hands the environment to `gardener.action.main`."""
import os

from gardener.action import main

raise SystemExit(main(os.environ))
