import type { ObjectStore } from '../../../lambdas/shared/object-store.js';

/** In-memory ObjectStore for tests: a map from s3:// URI to text. */
export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, { body: string; contentType: string }>();

  async getText(uri: string): Promise<string> {
    const object = this.objects.get(uri);
    if (!object) throw new Error(`${uri}: no such object`);
    return object.body;
  }

  async putText(uri: string, body: string, contentType: string): Promise<void> {
    this.objects.set(uri, { body, contentType });
  }

  /** Binary objects (putBytes), by URI. */
  readonly binaries = new Map<string, { body: Uint8Array; contentType: string }>();

  async putBytes(uri: string, body: Uint8Array, contentType: string): Promise<void> {
    this.binaries.set(uri, { body, contentType });
  }
}
