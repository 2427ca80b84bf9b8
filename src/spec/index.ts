// The spec layer: layouts and encodings only, one namespace per architecture document.
export * as smmuv3 from './smmuv3/index.js';
export * as gic from './gic/index.js';
export * as pcie from './pcie/index.js';
export * as acpi from './acpi/index.js';
export * as fdt from './fdt/format.js';
export * as virtio from './virtio/index.js';
// Field helpers the layouts are expressed with (encodeFields, getField, ...).
export * from './bits.js';
