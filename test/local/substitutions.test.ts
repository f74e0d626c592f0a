import { describe, expect, it } from 'vitest';
import { applySubstitutions } from '../../lib/constructs/orchestration/asl-definition.js';
import { readSqlQuery, SQL_QUERIES, sqlQuerySubstitution } from '../../lib/contracts/sql-queries.js';
import { kebab, pascal, snake } from '../../local/constants.js';
import { localSubstitution, localSubstitutions } from '../../local/substitutions.js';

/** `${Name}` written without a template-looking string literal. */
const ph = (name: string): string => `\${${name}}`;

describe('local substitution rules', () => {
  it.each([
    ['QualityGateFunctionArn', 'arn:aws:lambda:eu-west-1:000000000000:function:clv-local-quality-gate'],
    ['ModelGateFunctionArn', 'arn:aws:lambda:eu-west-1:000000000000:function:clv-local-model-gate'],
    ['IngestTransactionsJobName', 'ingest_transactions'],
    ['BuildFeaturesJobName', 'build_features'],
    ['RawBucket', 'clv-local-raw'],
    ['CuratedBucket', 'clv-local-curated'],
    ['GoldBucket', 'clv-local-gold'],
    ['FeaturesBucket', 'clv-local-features'],
    ['ArtifactsBucket', 'clv-local-artifacts'],
    ['AthenaResultsBucket', 'clv-local-athena-results'],
    ['GlueDatabase', 'clv_local'],
    ['AthenaWorkGroup', 'clv-local'],
    ['AlertsTopicArn', 'arn:aws:sns:eu-west-1:000000000000:clv-local-alerts'],
    ['ModelPackageGroupName', 'clv-local-clv-models'],
    ['SageMakerRoleArn', 'arn:aws:iam::000000000000:role/clv-local-sagemaker'],
    ['TrainingImageUri', 'local/xgboost:3.0-5'],
    ['FeatureGroupName', 'clv-local-customer-features'],
    ['BatchScoringStateMachineArn', 'arn:aws:states:eu-west-1:000000000000:stateMachine:clv-local-batch-scoring'],
    ['ValidateInputFunctionArn', 'arn:aws:lambda:eu-west-1:000000000000:function:clv-local-validate-input'],
    ['ModelRegistryFunctionArn', 'arn:aws:lambda:eu-west-1:000000000000:function:clv-local-model-registry'],
    ['KmsKeyArn', 'arn:aws:kms:eu-west-1:000000000000:key/00000000-0000-4000-8000-000000000000'],
    ['ScoringSetQuery', sqlQuerySubstitution('ScoringSetQuery')],
  ])('%s → %s', (name, value) => {
    expect(localSubstitution(name)).toBe(value);
  });

  it('fails naming a placeholder no rule covers, and lists the rules', () => {
    expect(() => localSubstitution('MysteryThing')).toThrow(
      /\$\{MysteryThing\} has no local rule; known rules: .*FunctionArn/,
    );
    expect(() => localSubstitution('PurpleBucket')).toThrow(`${ph('PurpleBucket')} has no local rule`);
    expect(() => localSubstitution('NotDeclaredQuery')).toThrow(
      `no SQL file is declared for the placeholder ${ph('NotDeclaredQuery')}`,
    );
    expect(() => localSubstitutions('x.asl.json', `{"a": "${ph('Nope')}"}`)).toThrow(
      `state-machines/x.asl.json: placeholder ${ph('Nope')}`,
    );
  });

  it('builds exactly the placeholders a text uses', () => {
    const text = `{"B": "${ph('RawBucket')}", "C": "${ph('RawBucket')}/${ph('GlueDatabase')}"}`;
    expect(localSubstitutions('t.asl.json', text)).toEqual({ RawBucket: 'clv-local-raw', GlueDatabase: 'clv_local' });
  });

  it('substitutes SQL so the JSON string holds the file text exactly (quotes, newlines, backslashes)', () => {
    for (const name of Object.keys(SQL_QUERIES)) {
      const text = `{"QueryString": "${ph(name)}"}`;
      const parsed = JSON.parse(applySubstitutions(text, { [name]: sqlQuerySubstitution(name) })) as {
        QueryString: string;
      };
      expect(parsed.QueryString).toBe(readSqlQuery(name).trim().replace(/;\s*$/, ''));
      expect(parsed.QueryString.length).toBeGreaterThan(20);
    }
  });

  it('converts case between the naming rules', () => {
    expect(kebab('AthenaResults')).toBe('athena-results');
    expect(kebab('QualityGate')).toBe('quality-gate');
    expect(kebab('SMSAlerts')).toBe('sms-alerts');
    expect(snake('IngestTransactions')).toBe('ingest_transactions');
    expect(pascal('quality-gate')).toBe('QualityGate');
    expect(pascal('build_features')).toBe('BuildFeatures');
  });
});
