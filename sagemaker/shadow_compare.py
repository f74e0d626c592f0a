"""SageMaker processing entry of the shadow pipeline's comparison step. See clv_model/shadow_compare.py."""

import sys

from clv_model.shadow_compare import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
