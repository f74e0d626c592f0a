/** A small SQL lexer: enough to rewrite function calls and `?` parameters without touching strings or comments. */

export type TokenKind = 'space' | 'comment' | 'string' | 'quoted' | 'number' | 'word' | 'param' | 'punct';

export interface Token {
  kind: TokenKind;
  text: string;
}

const PUNCT2 = ['<=', '>=', '<>', '!=', '||', '::', '=>', '->'];

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    const start = i;
    if (/\s/.test(c)) {
      while (i < n && /\s/.test(sql[i] as string)) i++;
      tokens.push({ kind: 'space', text: sql.slice(start, i) });
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
      tokens.push({ kind: 'comment', text: sql.slice(start, i) });
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) throw new Error(`unterminated /* comment at offset ${start}`);
      i = end + 2;
      tokens.push({ kind: 'comment', text: sql.slice(start, i) });
    } else if (c === "'" || c === '"') {
      i++;
      for (;;) {
        if (i >= n)
          throw new Error(`unterminated ${c === "'" ? 'string literal' : 'quoted identifier'} at offset ${start}`);
        if (sql[i] === c) {
          if (sql[i + 1] === c) {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
      tokens.push({ kind: c === "'" ? 'string' : 'quoted', text: sql.slice(start, i) });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      while (i < n && /[0-9.]/.test(sql[i] as string)) i++;
      if (i < n && /[eE]/.test(sql[i] as string) && /[-+0-9]/.test(sql[i + 1] ?? '')) {
        i += 2;
        while (i < n && /[0-9]/.test(sql[i] as string)) i++;
      }
      tokens.push({ kind: 'number', text: sql.slice(start, i) });
    } else if (/[A-Za-z_]/.test(c)) {
      while (i < n && /[A-Za-z0-9_$]/.test(sql[i] as string)) i++;
      tokens.push({ kind: 'word', text: sql.slice(start, i) });
    } else if (c === '?') {
      i++;
      tokens.push({ kind: 'param', text: '?' });
    } else {
      const two = sql.slice(i, i + 2);
      i += PUNCT2.includes(two) ? 2 : 1;
      tokens.push({ kind: 'punct', text: sql.slice(start, i) });
    }
  }
  return tokens;
}

export const render = (tokens: Token[]): string => tokens.map((t) => t.text).join('');

/** Index of the next non-space, non-comment token at or after i (or -1). */
export function nextSignificant(tokens: Token[], i: number): number {
  for (let j = i; j < tokens.length; j++) {
    const k = (tokens[j] as Token).kind;
    if (k !== 'space' && k !== 'comment') return j;
  }
  return -1;
}

export function prevSignificant(tokens: Token[], i: number): number {
  for (let j = i; j >= 0; j--) {
    const k = (tokens[j] as Token).kind;
    if (k !== 'space' && k !== 'comment') return j;
  }
  return -1;
}

/** The top-level arguments of a call whose `(` is at `open`: token ranges [from, to) and the index of `)`. */
export function callArguments(tokens: Token[], open: number): { args: [number, number][]; close: number } {
  let depth = 0;
  let argStart = open + 1;
  const args: [number, number][] = [];
  for (let j = open; j < tokens.length; j++) {
    const t = tokens[j] as Token;
    if (t.kind !== 'punct') continue;
    if (t.text === '(' || t.text === '[') depth++;
    else if (t.text === ')' || t.text === ']') {
      depth--;
      if (depth === 0) {
        if (j > argStart || args.length > 0) args.push([argStart, j]);
        return { args, close: j };
      }
    } else if (t.text === ',' && depth === 1) {
      args.push([argStart, j]);
      argStart = j + 1;
    }
  }
  throw new Error(`unbalanced parentheses after offset token ${open}`);
}
