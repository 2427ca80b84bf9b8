// Named platform presets and the one way to build a description from CONFIG | --preset plus the
// --gic-msi / --smmu flags.

import { UserInputError } from '../../util/errors.js';
import type { PlatformDescription } from '../description.js';
import { loadPlatformFile } from '../load.js';
import { applyOverrides, type PlatformOverrides, type SmmuAllocator } from '../overrides.js';
import { formatPath, validatePlatform, type PlatformInput } from '../schema.js';
import { OPENVMM_INPUT, openvmmSmmu } from './openvmm.js';
import { QEMU_HOSTED_INPUT } from './qemu-hosted.js';
import { QEMU_VIRT_INPUT } from './qemu-virt.js';

interface Preset {
  readonly input: PlatformInput;
  readonly allocate?: SmmuAllocator;
}

const PRESETS: Readonly<Record<string, Preset>> = Object.freeze({
  'qemu-virt': { input: QEMU_VIRT_INPUT },
  openvmm: { input: OPENVMM_INPUT, allocate: openvmmSmmu },
  'qemu-hosted': { input: QEMU_HOSTED_INPUT },
});

export const PRESET_NAMES: readonly string[] = Object.keys(PRESETS);

/** A preset's description with the flags applied. */
export function loadPreset(name: string, overrides: PlatformOverrides = {}): PlatformDescription {
  const p = PRESETS[name];
  if (!p) throw new UserInputError(`unknown preset '${name}' (known: ${PRESET_NAMES.join(', ')})`, '--preset');
  const r = validatePlatform(p.input);
  if (!r.ok) {
    const i = r.issues[0];
    throw new Error(`preset ${name} is invalid: ${i ? `${formatPath(i.path)}: ${i.message}` : '?'}`);
  }
  return applyOverrides(r.description, overrides, p.allocate);
}

/** CONFIG file or preset (exactly one), then the flags. */
export function loadPlatform(src: { config?: string | undefined; preset?: string | undefined }, overrides: PlatformOverrides = {}): PlatformDescription {
  if ((src.config === undefined) === (src.preset === undefined)) throw new UserInputError('give either a CONFIG file or --preset NAME (exactly one)');
  if (src.preset !== undefined) return loadPreset(src.preset, overrides);
  return applyOverrides(loadPlatformFile(src.config as string), overrides);
}
