"""AWS Glue 5.0 entry point of the build_features job (also run as-is by the local runtime).

All logic lives in clv_glue.features (shipped with --extra-py-files); arguments: see clv_glue/features/job.py.
"""

import sys

from clv_glue.features.job import main

if __name__ == "__main__":
    main(sys.argv[1:])
