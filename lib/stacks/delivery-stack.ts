import { ArnFormat, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import {
  CDK_BOOTSTRAP_ROLE_KINDS,
  dataPipelineStateMachineName,
  GITHUB_OIDC_AUDIENCE,
  GITHUB_OIDC_HOST,
  githubEnvironmentSubject,
  githubPullRequestSubject,
  SMOKE_EXECUTION_PREFIX,
} from '../config/delivery.js';
import { acknowledgeNag } from '../constructs/security/acknowledge.js';
import { nagResource } from '../constructs/security/s3-prefix-access.js';
import type { DeliveryStackProps } from './delivery-stack-props.js';

/**
 * What GitHub Actions needs to deploy one environment, without long-lived keys: the account's GitHub OIDC provider,
 * a deploy role trusted only for this repository's GitHub environment, and a read-only diff role for its pull
 * requests. Neither role touches a resource itself: they assume the CDK bootstrap roles (which do the deployment)
 * and the deploy role runs the post-deploy smoke check on the data pipeline. Deployed once by hand
 * (docs/delivery.md); afterwards the deployment workflow keeps it up to date with `cdk deploy --all`.
 */
export class DeliveryStack extends Stack {
  readonly deployRole: iam.Role;
  readonly diffRole: iam.Role;
  readonly oidcProviderArn: string;

  constructor(scope: Construct, id: string, props: DeliveryStackProps) {
    super(scope, id, props);
    const { delivery, environmentName: env } = props;
    const settings = delivery.environments[env];
    const qualifier = delivery.cdkBootstrapQualifier;

    this.oidcProviderArn = settings.createOidcProvider
      ? new iam.OidcProviderNative(this, 'GitHubOidcProvider', {
          url: `https://${GITHUB_OIDC_HOST}`,
          clientIds: [GITHUB_OIDC_AUDIENCE],
        }).oidcProviderArn
      : this.formatArn({ service: 'iam', region: '', resource: 'oidc-provider', resourceName: GITHUB_OIDC_HOST });

    const bootstrapRoleArn = (kind: string) =>
      this.formatArn({
        service: 'iam',
        region: '',
        resource: 'role',
        resourceName: `cdk-${qualifier}-${kind}-role-${this.account}-${this.region}`,
      });
    const trustedFor = (subject: string) =>
      new iam.WebIdentityPrincipal(this.oidcProviderArn, {
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: GITHUB_OIDC_AUDIENCE,
          [`${GITHUB_OIDC_HOST}:sub`]: subject,
        },
      });

    this.deployRole = new iam.Role(this, 'DeployRole', {
      roleName: settings.deployRoleName,
      description: `GitHub Actions deploys ${env} from ${delivery.github.owner}/${delivery.github.repo} (environment ${settings.githubEnvironment})`,
      assumedBy: trustedFor(githubEnvironmentSubject(delivery, env)),
      maxSessionDuration: Duration.hours(1),
    });
    this.deployRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeCdkBootstrapRoles',
        actions: ['sts:AssumeRole'],
        resources: CDK_BOOTSTRAP_ROLE_KINDS.map(bootstrapRoleArn),
      }),
    );
    const stateMachine = dataPipelineStateMachineName(env);
    const smokeExecutions = this.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${stateMachine}:${SMOKE_EXECUTION_PREFIX}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.deployRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'SmokeCheckStart',
        actions: ['states:StartExecution'],
        resources: [
          this.formatArn({
            service: 'states',
            resource: 'stateMachine',
            resourceName: stateMachine,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    this.deployRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'SmokeCheckDescribe',
        actions: ['states:DescribeExecution'],
        resources: [smokeExecutions],
      }),
    );

    this.diffRole = new iam.Role(this, 'DiffRole', {
      roleName: settings.diffRoleName,
      description: `GitHub Actions pull requests of ${delivery.github.owner}/${delivery.github.repo} read the deployed ${env} templates (cdk diff)`,
      assumedBy: trustedFor(githubPullRequestSubject(delivery)),
      maxSessionDuration: Duration.hours(1),
    });
    this.diffRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeCdkLookupRole',
        actions: ['sts:AssumeRole'],
        resources: [bootstrapRoleArn('lookup')],
      }),
    );

    acknowledgeNag(
      this.deployRole,
      `AwsSolutions-IAM5[Resource::${nagResource(this, smokeExecutions)}]`,
      'The smoke check describes the data-pipeline executions it starts; their ARNs end with a name chosen at start time, so the resource is the smoke check executions (prefix smoke-) of that one state machine and nothing wider.',
    );

    new CfnOutput(this, 'DeployRoleArn', {
      value: this.deployRole.roleArn,
      description: `GitHub environment '${settings.githubEnvironment}' variable AWS_DEPLOY_ROLE_ARN`,
    });
    new CfnOutput(this, 'DiffRoleArn', {
      value: this.diffRole.roleArn,
      description: `GitHub repository variable AWS_DIFF_ROLE_ARN_${env.toUpperCase()}`,
    });
  }
}
