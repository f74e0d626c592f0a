import { Stack } from 'aws-cdk-lib';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import type { Construct } from 'constructs';
import type { PlatformStackProps } from './platform-stack-props.js';

/** ML: the model registry (a Model Package Group) and, as they are built, the training and scoring pipelines. */
export class MlStack extends Stack {
  readonly modelPackageGroupName: string;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    this.modelPackageGroupName = `clv-${props.config.name}-clv-models`;
    new sagemaker.CfnModelPackageGroup(this, 'ModelPackageGroup', {
      modelPackageGroupName: this.modelPackageGroupName,
      modelPackageGroupDescription: `CLV (12-month revenue and churn) models, ${props.config.name}`,
    });
  }
}
