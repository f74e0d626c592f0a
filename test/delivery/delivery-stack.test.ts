import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import {
  DELIVERY,
  type DeliveryConfig,
  DeliveryConfigError,
  dataPipelineStateMachineName,
  loadDeliveryConfig,
} from '../../lib/config/delivery.js';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../../lib/config/environment-config.js';
import { DeliveryStack } from '../../lib/stacks/delivery-stack.js';
import { buildPlatform, CDK_CONTEXT, nagFindings } from '../helpers/platform.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

/** The stack as `cdk synth` builds it (cdk.json's feature flags); `account: undefined` is an env-agnostic synth. */
function synth(
  env: EnvironmentName,
  delivery: DeliveryConfig = DELIVERY,
  account: string | undefined = ACCOUNT,
): { stack: DeliveryStack; template: Template } {
  const app = new App({ context: CDK_CONTEXT });
  const stack = new DeliveryStack(app, `Clv-${env}-Delivery`, {
    env: { account, region: REGION },
    environmentName: env,
    delivery,
  });
  return { stack, template: Template.fromStack(stack) };
}

/** An ARN as text: `Fn::Join` of strings and the partition pseudo parameter (aws). */
function arnText(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) return JSON.stringify(value);
  return join[1]
    .map((part) =>
      typeof part === 'string' ? part : JSON.stringify(part) === '{"Ref":"AWS::Partition"}' ? 'aws' : '?',
    )
    .join(join[0]);
}

type Statement = { Effect: string; Action: string | string[]; Resource?: unknown; Condition?: unknown };

function statementsOf(template: Template, type: string): Statement[] {
  return Object.values(template.findResources(type)).flatMap(
    (r) => (r.Properties.PolicyDocument?.Statement ?? r.Properties.AssumeRolePolicyDocument?.Statement) as Statement[],
  );
}

function roleByName(template: Template, name: string): Record<string, unknown> {
  const roles = Object.values(template.findResources('AWS::IAM::Role', { Properties: { RoleName: name } }));
  expect(roles, name).toHaveLength(1);
  return (roles[0] as { Properties: Record<string, unknown> }).Properties;
}

describe('Clv-<env>-Delivery stack', () => {
  it('creates the GitHub OIDC provider for the audience sts.amazonaws.com', () => {
    const { template } = synth('dev');
    template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    template.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
    });
  });

  for (const env of ENVIRONMENT_NAMES) {
    it(`trusts the deploy role of ${env} only for this repository's GitHub environment ${env}`, () => {
      const { template } = synth(env);
      const role = roleByName(template, `clv-${env}-github-deploy`);
      expect(role.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRoleWithWebIdentity',
            Principal: { Federated: { Ref: expect.stringMatching(/^GitHubOidcProvider/) } },
            Condition: {
              StringEquals: {
                'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
                'token.actions.githubusercontent.com:sub': `repo:clv-platform/clv-platform:environment:${env}`,
              },
            },
          },
        ],
      });
      expect(role.MaxSessionDuration).toBe(3600);
      expect(role.ManagedPolicyArns).toBeUndefined();
    });
  }

  it('trusts the diff role only for pull requests of this repository', () => {
    const { template } = synth('staging');
    const role = roleByName(template, 'clv-staging-github-diff');
    const [statement] = (role.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement;
    expect(statement?.Condition).toEqual({
      StringEquals: {
        'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
        'token.actions.githubusercontent.com:sub': 'repo:clv-platform/clv-platform:pull_request',
      },
    });
  });

  it('grants no wildcard action and only the bootstrap roles and the smoke check', () => {
    const { template } = synth('prod');
    const statements = statementsOf(template, 'AWS::IAM::Policy');
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    expect(new Set(actions)).toEqual(new Set(['sts:AssumeRole', 'states:StartExecution', 'states:DescribeExecution']));
    const resources = statements.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map(arnText));
    expect(resources).toEqual(
      expect.arrayContaining([
        `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-deploy-role-${ACCOUNT}-${REGION}`,
        `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-file-publishing-role-${ACCOUNT}-${REGION}`,
        `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-image-publishing-role-${ACCOUNT}-${REGION}`,
        `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-lookup-role-${ACCOUNT}-${REGION}`,
        `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:clv-prod-data-pipeline`,
        `arn:aws:states:${REGION}:${ACCOUNT}:execution:clv-prod-data-pipeline:smoke-*`,
      ]),
    );
    expect(resources).toHaveLength(7); // the four bootstrap roles, the lookup role again (diff role), two for states
    expect(resources).not.toContain('*');
  });

  it('gives the diff role nothing but the CDK lookup role', () => {
    const { template } = synth('dev');
    const policies = Object.values(
      template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^DiffRole') }] },
      }),
    );
    expect(policies).toHaveLength(1);
    const doc = (policies[0] as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties
      .PolicyDocument;
    expect(doc.Statement).toHaveLength(1);
    expect(doc.Statement[0]?.Action).toBe('sts:AssumeRole');
    expect(arnText(doc.Statement[0]?.Resource)).toBe(
      `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-lookup-role-${ACCOUNT}-${REGION}`,
    );
  });

  it('uses the existing provider of the account when another environment creates it', () => {
    const delivery = loadDeliveryConfig(
      {},
      {
        ...DELIVERY,
        environments: {
          ...DELIVERY.environments,
          staging: { ...DELIVERY.environments.staging, createOidcProvider: false },
        },
      },
    );
    const { template } = synth('staging', delivery);
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    const role = roleByName(template, 'clv-staging-github-deploy');
    const [statement] = (role.AssumeRolePolicyDocument as { Statement: { Principal: unknown }[] }).Statement;
    const federated = (statement as { Principal: { Federated: unknown } }).Principal.Federated;
    expect(arnText(federated)).toBe(`arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`);
  });

  for (const env of ENVIRONMENT_NAMES) {
    it(`reports no unacknowledged cdk-nag finding in ${env}, with or without an account`, () => {
      expect(nagFindings(synth(env).stack)).toEqual([]);
      expect(nagFindings(synth(env, DELIVERY, undefined).stack)).toEqual([]);
    });
  }

  it('is checked by cdk-nag: a wildcard added to either role is reported, the acknowledgement is that narrow', () => {
    const { stack } = synth('dev');
    stack.diffRole.addToPolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: ['*'] }));
    stack.deployRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution'],
        resources: [`arn:aws:states:${REGION}:${ACCOUNT}:execution:clv-dev-data-pipeline:*`],
      }),
    );
    const findings = nagFindings(stack);
    expect(findings.some((f) => /^AwsSolutions-IAM5\[Resource::\*\] at Clv-dev-Delivery\/DiffRole\//.test(f))).toBe(
      true,
    );
    expect(
      findings.some((f) => /^AwsSolutions-IAM5\[Resource::.*pipeline:\*\] at Clv-dev-Delivery\/DeployRole\//.test(f)),
    ).toBe(true);
  });
});

describe('delivery config', () => {
  it('takes the repository from -c github=<owner>/<repo>', () => {
    const config = loadDeliveryConfig({ github: 'acme/shop-clv' });
    expect(config.github).toEqual({ owner: 'acme', repo: 'shop-clv' });
    const { template } = synth('dev', config);
    const role = roleByName(template, 'clv-dev-github-deploy');
    expect(JSON.stringify(role.AssumeRolePolicyDocument)).toContain('"repo:acme/shop-clv:environment:dev"');
  });

  it('refuses a repository that is not <owner>/<repo>', () => {
    expect(() => loadDeliveryConfig({ github: 'acme' })).toThrow(/github: expected <owner>\/<repo>, got "acme"/);
    expect(() => loadDeliveryConfig({ github: 'acme/shop/x' })).toThrow(DeliveryConfigError);
    expect(() => loadDeliveryConfig({ github: 'ac me/shop' })).toThrow(DeliveryConfigError);
  });

  it('names the field and what was expected', () => {
    const bad = {
      ...DELIVERY,
      environments: { ...DELIVERY.environments, dev: { ...DELIVERY.environments.dev, deployRoleName: 'a role' } },
      smokeCheck: { ...DELIVERY.smokeCheck, input: { date: '2024-02-30', clickstream: false } },
    };
    expect(() => loadDeliveryConfig({}, bad)).toThrow(/environments\.dev\.deployRoleName: must be an IAM role name/);
    expect(() => loadDeliveryConfig({}, bad)).toThrow(/smokeCheck\.input\.date: must be a date YYYY-MM-DD/);
    expect(() => loadDeliveryConfig({}, { ...DELIVERY, extra: 1 })).toThrow(/\(root\)|extra/);
  });

  it('refuses a role name used twice', () => {
    const bad = {
      ...DELIVERY,
      environments: {
        ...DELIVERY.environments,
        prod: { ...DELIVERY.environments.prod, diffRoleName: 'clv-dev-github-deploy' },
      },
    };
    expect(() => loadDeliveryConfig({}, bad)).toThrow(/role name 'clv-dev-github-deploy' is used twice/);
  });

  it('bounds the smoke check timeout: 1 and 360 minutes pass, 0 and 361 fail', () => {
    const withTimeout = (timeoutMinutes: number) => ({
      ...DELIVERY,
      smokeCheck: { ...DELIVERY.smokeCheck, timeoutMinutes },
    });
    expect(loadDeliveryConfig({}, withTimeout(1)).smokeCheck.timeoutMinutes).toBe(1);
    expect(loadDeliveryConfig({}, withTimeout(360)).smokeCheck.timeoutMinutes).toBe(360);
    expect(() => loadDeliveryConfig({}, withTimeout(0))).toThrow(/smokeCheck\.timeoutMinutes/);
    expect(() => loadDeliveryConfig({}, withTimeout(361))).toThrow(/smokeCheck\.timeoutMinutes/);
  });

  it("names the data pipeline's state machine as the ML stack deploys it", () => {
    const { platform } = buildPlatform('dev');
    Template.fromStack(platform.ml).hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: dataPipelineStateMachineName('dev'),
    });
  });
});
