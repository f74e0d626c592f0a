"""SageMaker training entry point (script mode). See clv_model/train_entry.py."""

import sys

from clv_model.train_entry import main

if __name__ == "__main__":
    sys.exit(main())
