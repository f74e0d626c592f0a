"""SageMaker processing entry of the batch-scoring publish step. See clv_model/publish.py."""

import sys

from clv_model.publish import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
