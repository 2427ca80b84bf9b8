// GICv3 ITS / redistributor / distributor and GICv2m layouts and encodings (IHI 0069).
export * as common from './gic-common.js';
export * as itsRegisters from './its-registers.js';
export * as itsCommands from './its-commands.js';
export * as itsTables from './its-tables.js';
export * as redistributor from './redistributor-registers.js';
export * as distributor from './distributor-registers.js';
export * as gicv2m from './gicv2m-registers.js';
