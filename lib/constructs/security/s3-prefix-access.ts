import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { acknowledgeNag } from './acknowledge.js';

/**
 * A resource string as cdk-nag prints it in finding ids (its flattenCfnReference): Ref → <Name>,
 * GetAtt → <Resource.Attribute>, Join concatenated, ImportValue → the export name, Sub's ${} → <>.
 */
export function nagResource(scope: IConstruct, value: string): string {
  const visit = (node: unknown): string => {
    if (node === undefined) return '';
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
    const o = node as Record<string, unknown>;
    if (o['Fn::Join']) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if (o['Fn::Sub']) return visit(o['Fn::Sub']);
    if (o['Fn::GetAtt']) {
      const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${visit(resource)}.${visit(attribute)}>`;
    }
    if (o['Fn::ImportValue']) return visit(o['Fn::ImportValue']);
    if (o.Ref) return `<${visit(o.Ref)}>`;
    return JSON.stringify(node);
  };
  return visit(Stack.of(scope).resolve(value));
}

/** How cdk-nag prints a bucket's ARN (for acknowledgements of prefix wildcards). */
export function nagBucketArn(bucket: s3.IBucket, scope: IConstruct = bucket): string {
  return nagResource(scope, bucket.bucketArn);
}

export interface PrefixAccess {
  readonly sid: string;
  readonly bucket: s3.IBucket;
  /** Key prefixes; each becomes `<prefix>*`. A prefix ending in "/" covers that folder only. */
  readonly prefixes: string[];
  readonly actions: string[];
  /** Who writes the object names under the prefixes (why they cannot be listed one by one). */
  readonly namedBy: string;
}

/**
 * An S3 statement on objects under named prefixes, with the cdk-nag IAM5 acknowledgement of each prefix wildcard
 * on `owner` (the role or policy that carries it). Object keys under a data prefix are chosen at run time
 * (partition values, Spark part files, Firehose names), so the prefix is the narrowest resource there is.
 */
export function prefixStatement(owner: IConstruct, access: PrefixAccess): iam.PolicyStatement {
  if (access.prefixes.length === 0) throw new Error(`${access.sid}: no prefixes`);
  for (const prefix of access.prefixes) {
    if (prefix.length === 0 || prefix.startsWith('/') || prefix.includes('*')) {
      throw new Error(`${access.sid}: prefix '${prefix}' must be a non-empty key prefix without '*' or a leading '/'`);
    }
    acknowledgeNag(
      owner,
      `AwsSolutions-IAM5[Resource::${nagBucketArn(access.bucket, owner)}/${prefix}*]`,
      `Objects under ${prefix} are named at run time by ${access.namedBy}; the grant (${access.actions.join(', ')}) is limited to that prefix.`,
    );
  }
  return new iam.PolicyStatement({
    sid: access.sid,
    actions: access.actions,
    resources: access.prefixes.map((p) => access.bucket.arnForObjects(`${p}*`)),
  });
}
