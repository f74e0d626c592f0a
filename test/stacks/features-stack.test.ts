import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironmentConfig } from '../../lib/config/load-config.js';
import { featureContract, featureGroupFeatureDefinitions } from '../../lib/contracts/feature-contract.js';
import { createPlatform } from '../../lib/platform.js';
import { CDK_CONTEXT } from '../helpers/platform.js';
import { asArray, policyStatements, synthTemplates } from './templates.js';

let features: Template;

beforeAll(() => {
  features = synthTemplates('prod').features;
});

describe('Features: the Feature Group', () => {
  it('takes its definitions, record identifier and event time from the feature contract', () => {
    features.hasResourceProperties('AWS::SageMaker::FeatureGroup', {
      FeatureGroupName: 'clv-prod-customer-features',
      RecordIdentifierFeatureName: 'customer_id',
      EventTimeFeatureName: 'event_time',
      FeatureDefinitions: featureGroupFeatureDefinitions().map((d) => ({
        FeatureName: d.featureName,
        FeatureType: d.featureType,
      })),
    });
    expect(featureContract.record_identifier).toBe('customer_id');
  });

  it('keeps the offline store in the features bucket with the platform key and the lake table', () => {
    features.hasResourceProperties('AWS::SageMaker::FeatureGroup', {
      OfflineStoreConfig: {
        S3StorageConfig: {
          S3Uri: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/offline-store$')])] }),
          KmsKeyId: Match.objectLike({ 'Fn::ImportValue': Match.stringLikeRegexp('PlatformKey') }),
        },
        DisableGlueTableCreation: true,
        DataCatalogConfig: { Catalog: 'AwsDataCatalog', Database: 'clv_prod', TableName: 'customer_features_offline' },
        TableFormat: 'Glue',
      },
      RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FeatureStoreRole'), 'Arn'] },
    });
  });

  it('has no online store unless the config turns it on', () => {
    const props = Object.values(features.findResources('AWS::SageMaker::FeatureGroup'))[0] as {
      Properties: Record<string, unknown>;
    };
    expect(props.Properties.OnlineStoreConfig).toBeUndefined();

    process.env.CDK_VALIDATION = 'false';
    const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    const dev = loadEnvironmentConfig('dev');
    const platform = createPlatform(app, { ...dev, featureStore: { onlineStoreEnabled: true } });
    const online = Template.fromStack(platform.features);
    online.hasResourceProperties('AWS::SageMaker::FeatureGroup', {
      OnlineStoreConfig: { EnableOnlineStore: true, SecurityConfig: { KmsKeyId: Match.anyValue() } },
    });
    const putRecord = policyStatements(online).filter((s) => asArray(s.Action).includes('sagemaker:PutRecord'));
    expect(putRecord).toHaveLength(1);
    expect(policyStatements(features).some((s) => asArray(s.Action).includes('sagemaker:PutRecord'))).toBe(false);
  });

  it('the Feature Store role is assumed by SageMaker from this account only', () => {
    features.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'sagemaker.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ],
      },
    });
  });
});

describe('Features: the build_features Glue job', () => {
  it('runs on Glue 5.0 with the security configuration and writes to the feature group through Feature Store', () => {
    const [secId] = Object.keys(features.findResources('AWS::Glue::SecurityConfiguration'));
    features.hasResourceProperties('AWS::Glue::Job', {
      Name: 'clv-prod-build-features',
      GlueVersion: '5.0',
      SecurityConfiguration: { Ref: secId },
      DefaultArguments: Match.objectLike({
        '--store': 'sagemaker',
        '--feature-group-name': 'clv-prod-customer-features',
        '--online-store': 'false',
      }),
    });
  });

  it('may describe its feature group and add partitions to the offline-store table only', () => {
    const statements = policyStatements(features).filter((s) => s.policy.startsWith('BuildFeaturesRole'));
    const fg = statements.find((s) => s.Sid === 'FeatureGroup');
    expect(asArray(fg?.Action)).toEqual(['sagemaker:DescribeFeatureGroup']);
    expect(JSON.stringify(fg?.Resource)).toContain(':feature-group/clv-prod-customer-features');
    const partitions = statements.find((s) => s.Sid === 'OfflineStorePartitions');
    expect(asArray(partitions?.Action).sort()).toEqual(['glue:BatchCreatePartition', 'glue:GetTable']);
    expect(JSON.stringify(partitions?.Resource)).toContain(':table/clv_prod/customer_features_offline');
  });
});
