import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../paths.js';

/** Directory holding every pipeline definition (Amazon States Language, JSONPath). */
export const STATE_MACHINES_DIR = path.join(repoRoot, 'state-machines');

const PLACEHOLDER = /\$\{([A-Za-z][A-Za-z0-9_]*)\}/g;

/** Reads an ASL file from `state-machines/` and returns its text, failing with the file name when it is not JSON. */
export function readAslFile(fileName: string): { filePath: string; text: string; json: Record<string, unknown> } {
  if (fileName.includes('/') || fileName.includes('\\') || !fileName.endsWith('.asl.json')) {
    throw new Error(
      `State machine definition '${fileName}' must be a file name ending in .asl.json in state-machines/`,
    );
  }
  const filePath = path.join(STATE_MACHINES_DIR, fileName);
  if (!fs.existsSync(filePath)) {
    throw new Error(`State machine definition not found: state-machines/${fileName}`);
  }
  const text = fs.readFileSync(filePath, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`state-machines/${fileName} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`state-machines/${fileName} must hold a JSON object`);
  }
  if ((json as Record<string, unknown>).QueryLanguage === 'JSONata') {
    throw new Error(`state-machines/${fileName} uses JSONata; the platform's ASL is JSONPath only`);
  }
  return { filePath, text, json: json as Record<string, unknown> };
}

/** The `${Name}` placeholders a definition uses (DefinitionSubstitutions keys), sorted. */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string))].sort();
}

/**
 * Checks that the substitutions cover every placeholder of the definition and name no unknown one,
 * so a typo fails at synth time rather than as a broken ARN at run time.
 */
export function checkSubstitutions(fileName: string, text: string, substitutions: Record<string, string>): void {
  const used = placeholdersOf(text);
  const given = Object.keys(substitutions).sort();
  const missing = used.filter((p) => !(p in substitutions));
  const unknown = given.filter((g) => !used.includes(g));
  if (missing.length > 0 || unknown.length > 0) {
    const parts = [];
    if (missing.length > 0) parts.push(`missing substitutions: ${missing.join(', ')}`);
    if (unknown.length > 0) parts.push(`substitutions not used by the definition: ${unknown.join(', ')}`);
    throw new Error(`state-machines/${fileName}: ${parts.join('; ')}`);
  }
}

/** Applies DefinitionSubstitutions exactly as Step Functions does (textual `${Name}` replacement). */
export function applySubstitutions(text: string, substitutions: Record<string, string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) =>
    name in substitutions ? (substitutions[name] as string) : whole,
  );
}
