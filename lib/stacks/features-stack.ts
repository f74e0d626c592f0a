import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { PlatformStackProps } from './platform-stack-props.js';

/** Features: the feature-building Glue job and the SageMaker Feature Group (added as they are built). */
export class FeaturesStack extends Stack {
  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
  }
}
