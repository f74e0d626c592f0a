import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../security/acknowledge.js';
import { checkSubstitutions, readAslFile } from './asl-definition.js';
import type { AslStateMachineProps } from './asl-state-machine-props.js';

/**
 * Deploys one ASL file from `state-machines/` with DefinitionSubstitutions, a dedicated least-privilege role,
 * logging of every event (ALL, execution data included) to a KMS-encrypted log group, X-Ray tracing and a timeout.
 * The local runtime executes the very same file with local substitutions.
 */
export class AslStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AslStateMachineProps) {
    super(scope, id);
    const { text, json } = readAslFile(props.definitionFile);
    checkSubstitutions(props.definitionFile, text, props.definitionSubstitutions);
    if (props.policyStatements.length === 0) {
      throw new Error(`AslStateMachine ${id}: policyStatements must list what the definition does`);
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/clv-${props.environmentName}-${props.stateMachineName}`,
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: `Runs state-machines/${props.definitionFile} (${props.environmentName})`,
    });
    for (const statement of props.policyStatements) this.role.addToPolicy(statement);

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: `clv-${props.environmentName}-${props.stateMachineName}`,
      // CDK applies `timeout` only to definitions it builds itself, so the file's definition carries it as
      // TimeoutSeconds (a file that sets its own keeps it). Placeholders sit inside JSON strings, so re-serialising
      // the parsed definition keeps every one of them.
      definitionBody: sfn.DefinitionBody.fromString(
        JSON.stringify({ ...json, TimeoutSeconds: json.TimeoutSeconds ?? props.timeout.toSeconds() }),
      ),
      definitionSubstitutions: props.definitionSubstitutions,
      role: this.role,
      tracingEnabled: true,
      encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(props.encryptionKey),
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    acknowledgeNag(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Added by Step Functions logging and tracing: logs:*LogDelivery/PutResourcePolicy/Describe* and xray:PutTraceSegments/PutTelemetryRecords/GetSampling* support no resource-level permissions.',
    );
  }
}
