/**
 * The ModelRegistry over the local runtime's registry files, <root>/_local/registry/<group>/<version>.json
 * (written by local/integrations/durable.ts and `clv models`): the DescribeModelPackage fields as JSON.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { ModelRegistry, PackageDetail, PackageRef } from './registry.js';

const packageFileSchema = z.looseObject({
  ModelPackageArn: z.string(),
  ModelPackageVersion: z.number().int().positive(),
  ModelApprovalStatus: z.string(),
  CustomerMetadataProperties: z.record(z.string(), z.string()).optional(),
  InferenceSpecification: z.looseObject({
    Containers: z
      .array(
        z.looseObject({
          Image: z.string(),
          ModelDataUrl: z.string(),
          Environment: z.record(z.string(), z.string()).optional(),
        }),
      )
      .min(1),
  }),
});

export class LocalModelRegistry implements ModelRegistry {
  constructor(private readonly root: string) {}

  private groupDir(group: string): string | undefined {
    const base = path.join(this.root, '_local', 'registry');
    if (!fs.existsSync(base)) return undefined;
    const dir = fs.readdirSync(base).find((g) => g.toLowerCase() === group.toLowerCase());
    return dir ? path.join(base, dir) : undefined;
  }

  private read(file: string): PackageDetail {
    const r = packageFileSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    if (!r.success) throw new Error(`${file} is not a model package record: ${z.prettifyError(r.error)}`);
    const p = r.data;
    const c = p.InferenceSpecification.Containers[0] as {
      Image: string;
      ModelDataUrl: string;
      Environment?: Record<string, string>;
    };
    return {
      arn: p.ModelPackageArn,
      version: p.ModelPackageVersion,
      approvalStatus: p.ModelApprovalStatus,
      metadata: { ...(p.CustomerMetadataProperties ?? {}) },
      image: c.Image,
      modelDataUrl: c.ModelDataUrl,
      environment: { ...(c.Environment ?? {}) },
    };
  }

  private all(group: string): { file: string; detail: PackageDetail }[] {
    const dir = this.groupDir(group);
    if (!dir) return [];
    return fs
      .readdirSync(dir)
      .filter((f) => /^\d+\.json$/.test(f))
      .map((f) => ({ file: path.join(dir, f), detail: this.read(path.join(dir, f)) }));
  }

  async listApproved(group: string): Promise<PackageRef[]> {
    return this.all(group)
      .filter((p) => p.detail.approvalStatus === 'Approved')
      .map((p) => ({ arn: p.detail.arn, version: p.detail.version }));
  }

  async listAll(group: string): Promise<PackageRef[]> {
    return this.all(group).map((p) => ({ arn: p.detail.arn, version: p.detail.version }));
  }

  async describe(arn: string): Promise<PackageDetail> {
    const m = /model-package\/([^/]+)\/(\d+)$/.exec(arn);
    const dir = m ? this.groupDir(m[1] as string) : undefined;
    const file = dir ? path.join(dir, `${m?.[2]}.json`) : '';
    if (!dir || !fs.existsSync(file)) throw new Error(`Model package ${arn} does not exist.`);
    return this.read(file);
  }
}
