// Loads a platform description from YAML or JSON text/file. Every problem becomes one
// `UserInputError` naming the file, the line and the path of the offending value, e.g.
//   board.yaml:14: smmus[0].rootComplexes[0]: SMMU instance references unknown root complex 'pcie9'
// JSON is parsed by the same YAML 1.2 parser (JSON is a subset), so it gets line numbers too.

import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { UserInputError } from '../util/errors.js';
import type { PlatformDescription } from './description.js';
import { formatPath, validatePlatform, type IssuePath } from './schema.js';

/** 1-based line of the value at `path`, or of its closest existing ancestor. */
function lineOf(doc: Document, lc: LineCounter, path: IssuePath): number {
  for (let n = path.length; n >= 0; n--) {
    const node: unknown = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return 1;
}

/**
 * Parses and validates description text. `file` is only used in messages. Throws
 * `UserInputError` (first problem; the message says how many more there are).
 */
export function parsePlatform(text: string, file = '<config>'): PlatformDescription {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, intAsBigInt: false });
  const err = doc.errors[0];
  if (err) {
    const line = lc.linePos(err.pos[0]).line;
    throw new UserInputError(`syntax error: ${err.message.split('\n')[0] ?? err.message}`, `${file}:${line}`);
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  const r = validatePlatform(data);
  if (r.ok) return r.description;
  const first = r.issues[0] as (typeof r.issues)[number];
  const more = r.issues.length > 1 ? ` (and ${r.issues.length - 1} more problem${r.issues.length > 2 ? 's' : ''})` : '';
  throw new UserInputError(`${formatPath(first.path)}: ${first.message}${more}`, `${file}:${lineOf(doc, lc, first.path)}`);
}

/** Reads and validates a description file (.yaml, .yml or .json). */
export function loadPlatformFile(file: string): PlatformDescription {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserInputError(`cannot read platform description: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, file);
  }
  return parsePlatform(text, file);
}
