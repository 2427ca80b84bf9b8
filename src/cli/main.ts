#!/usr/bin/env node
/**
 * `vsmmu` command line. A thin layer over the library: each command lives in ./commands/ and is
 * registered by ./commands/index.ts.
 *
 * Exit codes: 0 success, 1 findings / failed expectations, 2 unusable input (bad flags, config,
 * file) — one clear line on stderr naming the problem.
 */
import { Command, CommanderError } from 'commander';
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ExpectationError, UserInputError } from '../util/errors.js';
import { registerCommands } from './commands/index.js';

const require = createRequire(import.meta.url);
const pkg = require('../../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('vsmmu')
    .description('Arm SMMUv3 / GICv3 ITS / PCIe / IORT-DT emulation and tooling')
    .version(pkg.version)
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerCommands(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2; // commander already printed the message
    }
    if (e instanceof UserInputError) {
      process.stderr.write(`vsmmu: ${e.message}\n`);
      return 2;
    }
    if (e instanceof ExpectationError) {
      process.stderr.write(`vsmmu: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/**
 * Whether this module is the program node was started with: through the package's bin link
 * (`node_modules/.bin/vsmmu`, a global install's link), `node dist/cli/main.js`, or
 * `node --import tsx src/cli/main.ts`. The links are resolved, so any name works; importing this
 * module from elsewhere (tests, the library) runs nothing.
 */
function startedAsProgram(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/**
 * `npm run vsmmu -- ARGS` runs the CLI in the package directory; npm keeps the directory the user
 * typed the command in as INIT_CWD. Relative input and output paths mean that directory, so the
 * CLI works there (only for this package's own `vsmmu` script; an installed binary runs where it
 * is started).
 */
export function userDirectory(env: NodeJS.ProcessEnv): string | null {
  if (env.npm_lifecycle_event !== 'vsmmu' || env.npm_package_name !== 'vsmmu') return null;
  return env.INIT_CWD !== undefined && env.INIT_CWD !== '' ? env.INIT_CWD : null;
}

if (startedAsProgram()) {
  const dir = userDirectory(process.env);
  if (dir !== null && dir !== process.cwd()) process.chdir(dir);
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`vsmmu: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
