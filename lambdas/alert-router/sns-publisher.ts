/** Publishes the Low-severity digest lines to the digest topic with the AWS SDK (SNS PublishCommand). */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { DigestPublisher } from './core.js';

/** SNS subjects are at most 100 printable ASCII characters. */
const SUBJECT_MAX = 100;

export class SnsDigestPublisher implements DigestPublisher {
  constructor(
    private readonly topicArn: string,
    private readonly client: SNSClient = new SNSClient({}),
  ) {
    if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/.test(topicArn)) {
      throw new Error(`SnsDigestPublisher: not an SNS topic ARN: '${topicArn}'`);
    }
  }

  async publish(subject: string, message: string): Promise<void> {
    const printable = subject.replace(/[^\x20-\x7e]/g, '?').slice(0, SUBJECT_MAX);
    await this.client.send(new PublishCommand({ TopicArn: this.topicArn, Subject: printable, Message: message }));
  }
}
