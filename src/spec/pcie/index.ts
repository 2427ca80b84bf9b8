// PCI / PCI Express configuration-space layouts (PCIe Base r5.0 chapter 7). Layout only.
export * from './config-header.js';
export * from './capabilities.js';
export * from './pcie-capability.js';
