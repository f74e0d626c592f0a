import { Duration, Stack } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type { Construct } from 'constructs';
import { acknowledgeNag } from '../constructs/security/acknowledge.js';
import type { IngestionStackProps } from './ingestion-stack-props.js';

/** Ingestion: the clickstream Kinesis Data Stream (on-demand, KMS-encrypted). */
export class IngestionStack extends Stack {
  readonly clickstream: kinesis.Stream;

  constructor(scope: Construct, id: string, props: IngestionStackProps) {
    super(scope, id, props);
    this.clickstream = new kinesis.Stream(this, 'Clickstream', {
      streamName: `clv-${props.config.name}-clickstream`,
      streamMode: kinesis.StreamMode.ON_DEMAND,
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: props.key,
      retentionPeriod: Duration.hours(48),
    });
    acknowledgeNag(
      this.clickstream,
      'AwsSolutions-KDS3',
      'The stream uses the platform customer-managed KMS key (rotation on, key policy scoped) on purpose: one key for the whole lake path.',
    );
  }
}
