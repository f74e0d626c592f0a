import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag finding on a construct (and its children) with the reason it is accepted.
 * A reason is required and must say why; acknowledgements are reviewed like code.
 */
export function acknowledgeNag(scope: IConstruct, id: string, reason: string): void {
  if (reason.trim().length < 20) {
    throw new Error(`cdk-nag acknowledgement ${id} on ${scope.node.path} needs a real reason (20+ characters)`);
  }
  Validations.of(scope).acknowledge({ id, reason });
}
