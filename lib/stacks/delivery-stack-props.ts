import type { StackProps } from 'aws-cdk-lib';
import type { DeliveryConfig } from '../config/delivery.js';
import type { EnvironmentName } from '../config/environment-config.js';

/** Properties of the `Clv-<env>-Delivery` stack (the roles GitHub Actions assumes to deploy one environment). */
export interface DeliveryStackProps extends StackProps {
  /** The environment this stack's roles deploy. */
  readonly environmentName: EnvironmentName;
  /** Validated delivery settings (`lib/config/delivery.ts`). */
  readonly delivery: DeliveryConfig;
}
