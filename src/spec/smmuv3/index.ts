// SMMUv3 layouts and encodings (IHI 0070), one namespace per structure.
export * as registers from './registers.js';
export * as idr from './idr.js';
export * as commands from './commands.js';
export * as events from './events.js';
export * as ste from './ste.js';
export * as cd from './cd.js';
export * as l1 from './l1-descriptors.js';
export * as pagetable from './pagetable.js';
export * as pri from './pri.js';
