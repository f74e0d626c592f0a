import type { StackProps } from 'aws-cdk-lib';
import type { EnvironmentConfig } from '../config/environment-config.js';

/** Properties every platform stack receives: the validated environment configuration. */
export interface PlatformStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}
