"""SageMaker processing entry of the campaign audience export. See clv_model/campaign_audience.py."""

import sys

from clv_model.campaign_audience import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
