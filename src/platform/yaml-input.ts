// Reads a YAML (or JSON) document given by the user with line tracking, within fixed bounds:
// nesting deeper than MAX_YAML_DEPTH levels is refused before the parser sees the text (a deeply
// nested document would otherwise exhaust the call stack or memory inside the parser), and alias
// expansion is capped (`maxAliasCount`); mapping keys are plain values. Every problem is one
// UserInputError "file:line: message".
import { isAlias, isCollection, isNode, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { UserInputError } from '../util/errors.js';

/** Deepest nesting of mappings / sequences accepted in an input file. */
export const MAX_YAML_DEPTH = 256;
/** Alias expansions accepted while converting the document (the YAML library's guard). */
export const MAX_YAML_ALIASES = 100;

export interface YamlInput {
  /** The document as plain data. */
  readonly data: unknown;
  /** 1-based line of the value at `path`, or of its closest existing ancestor. */
  lineOf(path: readonly (string | number)[]): number;
}

/**
 * A conservative upper bound of the nesting depth, computed in one pass without recursion:
 * open flow collections (`[`, `{` outside quotes and comments) plus the block structure
 * (the stack of increasing indentations, and compact `- ` / `? ` entries on one line).
 * Returns the 1-based line where the depth first exceeds `limit`, or 0.
 */
export function lineExceedingDepth(text: string, limit: number): number {
  const indents: { col: number; depth: number }[] = [];
  let block = 0;
  let flow = 0;
  let line = 1;
  let i = 0;
  const n = text.length;
  const space = (c: string | undefined): boolean => c === undefined || c === ' ' || c === '\t' || c === '\n' || c === '\r';
  while (i < n) {
    let col = 0;
    while (i < n && text[i] === ' ') {
      i++;
      col++;
    }
    const blank = i >= n || text[i] === '\n' || text[i] === '\r' || text[i] === '#';
    if (!blank && flow === 0) {
      while (indents.length && indents[indents.length - 1]!.col > col) indents.pop();
      const top = indents[indents.length - 1];
      if (top && top.col === col) block = top.depth;
      else indents.push({ col, depth: (block = (top?.depth ?? 0) + 1) });
      // Compact nested entries on one line ("- - - x", "- ? x"): each opens a level whose
      // content column is where the next entry starts.
      while ((text[i] === '-' || text[i] === '?') && (text[i + 1] === ' ' || text[i + 1] === '\t')) {
        i += 2;
        col += 2;
        while (text[i] === ' ' || text[i] === '\t') {
          i++;
          col++;
        }
        indents.push({ col, depth: ++block });
      }
    }
    if (block + flow > limit) return line;
    // The rest of the line: flow brackets outside quoted scalars and comments. In block context
    // a bracket opens a flow collection only where a value starts; inside one, always.
    let valueStart = true;
    let quote = '';
    for (; i < n && text[i] !== '\n'; i++) {
      const c = text[i]!;
      if (quote) {
        if (c === quote) {
          if (quote === "'" && text[i + 1] === "'") i++;
          else quote = '';
        } else if (c === '\\' && quote === '"') i++;
        continue;
      }
      if (c === ' ' || c === '\t' || c === '\r') continue;
      if (c === '#' && space(text[i - 1])) {
        while (i < n && text[i] !== '\n') i++;
        break;
      }
      const open = valueStart || flow > 0;
      if ((c === '"' || c === "'") && open) quote = c;
      else if ((c === '[' || c === '{') && open) {
        flow++;
        if (block + flow > limit) return line;
      } else if ((c === ']' || c === '}') && flow > 0) flow--;
      valueStart = ((c === ':' || c === '-' || c === '?') && space(text[i + 1])) || (flow > 0 && (c === ',' || c === '[' || c === '{' || c === ':'));
    }
    i++;
    line++;
  }
  return 0;
}

function lineOfPath(doc: Document, lc: LineCounter, path: readonly (string | number)[]): number {
  for (let k = path.length; k >= 0; k--) {
    const node: unknown = k === 0 ? doc.contents : doc.getIn(path.slice(0, k), true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return 1;
}

/** Parses user-supplied YAML/JSON text; `file` names the place in messages. */
export function readYamlInput(text: string, file: string): YamlInput {
  const deep = lineExceedingDepth(text, MAX_YAML_DEPTH);
  if (deep) throw new UserInputError(`nested deeper than ${MAX_YAML_DEPTH} levels (mappings and sequences); flatten the document`, `${file}:${deep}`);
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, intAsBigInt: false });
  const err = doc.errors[0];
  if (err) throw new UserInputError(`syntax error: ${err.message.split('\n')[0] ?? err.message}`, `${file}:${lc.linePos(err.pos[0]).line}`);
  // A mapping or sequence as a key (`? [a, b]`, `{a: 1}: x`) has no place in a plain-data
  // document: refused here, where the YAML library would make a string of it with a warning.
  let keyLine = 0;
  visit(doc, {
    Pair(_k, pair) {
      const key = isAlias(pair.key) ? pair.key.resolve(doc) : pair.key;
      if (!isCollection(key)) return undefined;
      keyLine = isNode(pair.key) && pair.key.range ? lc.linePos(pair.key.range[0]).line : 1;
      return visit.BREAK;
    },
  });
  if (keyLine) throw new UserInputError('a mapping key must be a plain value (a name or a number), not a mapping or a sequence', `${file}:${keyLine}`);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    // The YAML library refuses documents whose aliases expand too much (a ReferenceError).
    if (!(e instanceof ReferenceError)) throw e;
    let line = 1;
    visit(doc, {
      Alias(_k, node) {
        if (isAlias(node) && node.range) line = lc.linePos(node.range[0]).line;
        return visit.BREAK;
      },
    });
    throw new UserInputError(`aliases expand to too many nodes (more than ${MAX_YAML_ALIASES} alias references, the guard against alias bombs); write the values out`, `${file}:${line}`);
  }
  return { data, lineOf: (path) => lineOfPath(doc, lc, path) };
}
