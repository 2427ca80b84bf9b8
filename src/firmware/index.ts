// `vsmmu/firmware`: flattened device trees (read, write, DTS), the platform device tree builder,
// ACPI IORT/MADT (build, encode, decode, resolve) and the firmware lint.
export * from './fdt/index.js';
export { buildDeviceTree, PHANDLE } from './dt/build.js';
export * from './acpi/index.js';
export * from './lint/index.js';
