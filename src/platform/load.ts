// Loads a platform description from YAML or JSON text/file. Every problem becomes one
// `UserInputError` naming the file, the line and the path of the offending value, e.g.
//   board.yaml:14: smmus[0].rootComplexes[0]: SMMU instance references unknown root complex 'pcie9'
// JSON is parsed by the same YAML 1.2 parser (JSON is a subset), so it gets line numbers too.

import { readFileSync } from 'node:fs';
import { UserInputError } from '../util/errors.js';
import type { PlatformDescription } from './description.js';
import { formatPath, validatePlatform } from './schema.js';
import { readYamlInput } from './yaml-input.js';

/**
 * Parses and validates description text. `file` is only used in messages. Throws
 * `UserInputError` (first problem; the message says how many more there are).
 */
export function parsePlatform(text: string, file = '<config>'): PlatformDescription {
  const { data, lineOf } = readYamlInput(text, file);
  const r = validatePlatform(data);
  if (r.ok) return r.description;
  const first = r.issues[0] as (typeof r.issues)[number];
  const more = r.issues.length > 1 ? ` (and ${r.issues.length - 1} more problem${r.issues.length > 2 ? 's' : ''})` : '';
  throw new UserInputError(`${formatPath(first.path)}: ${first.message}${more}`, `${file}:${lineOf(first.path)}`);
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
