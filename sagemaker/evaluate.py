"""Evaluation entry point (SageMaker container or local). See clv_model/evaluate_entry.py."""

import sys

from clv_model.evaluate_entry import main

if __name__ == "__main__":
    sys.exit(main())
