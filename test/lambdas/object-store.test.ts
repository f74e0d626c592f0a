import { describe, expect, it } from 'vitest';
import { currentObjectStore, DirectoryObjectStore, S3ObjectStore } from '../../lambdas/shared/object-store.js';

describe('currentObjectStore', () => {
  it('is made once per local root, again when the root changes, and is S3 without one', () => {
    const a = currentObjectStore({ CLV_LOCAL_ROOT: '/tmp/clv-a' });
    expect(a).toBeInstanceOf(DirectoryObjectStore);
    expect(currentObjectStore({ CLV_LOCAL_ROOT: '/tmp/clv-a' })).toBe(a);
    const b = currentObjectStore({ CLV_LOCAL_ROOT: '/tmp/clv-b' });
    expect(b).not.toBe(a);
    expect((b as DirectoryObjectStore).pathOf('s3://bucket/key')).toBe('/tmp/clv-b/bucket/key');
    expect(currentObjectStore({})).toBeInstanceOf(S3ObjectStore);
  });
});
