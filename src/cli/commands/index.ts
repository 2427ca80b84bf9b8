/**
 * Registers every `vsmmu` subcommand. One line per command module; each module exports
 * `register(program)`.
 */
import type { Command } from 'commander';
import { register as registerPlatform } from './platform.js';
import { register as registerInspect } from './inspect.js';
import { register as registerDecode } from './decode.js';
import { register as registerLint } from './lint.js';
import { register as registerRun } from './run.js';
import { register as registerBoot } from './boot.js';
import { register as registerAttach } from './attach.js';

export function registerCommands(program: Command): void {
  void program;
  registerPlatform(program);
  registerInspect(program);
  registerDecode(program);
  registerLint(program);
  registerRun(program);
  registerBoot(program);
  registerAttach(program);
}
