// ACPI layouts (SDT header, RSDP/XSDT, IORT, MADT). Layout and encodings only.
export * from './layout.js';
export * from './header.js';
export * from './iort.js';
export * from './madt.js';
