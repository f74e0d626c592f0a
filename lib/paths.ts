import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root (one level above lib/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
