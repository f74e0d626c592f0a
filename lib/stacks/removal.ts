import { RemovalPolicy } from 'aws-cdk-lib';
import type { EnvironmentConfig } from '../config/environment-config.js';

/** The removal policy of stateful resources: RETAIN unless the environment's config says `destroy`. */
export function statefulRemovalPolicy(config: EnvironmentConfig): RemovalPolicy {
  return config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}
