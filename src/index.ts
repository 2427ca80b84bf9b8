/**
 * vsmmu library entry point. Device models and tools are exported flat; the spec layer (layouts
 * and encodings only) is exported as the `spec` namespace (`spec.smmuv3.ste.STE`, ...).
 */
// memory and shared interfaces
export * from './memory/types.js';
export * from './memory/guest-memory.js';
export { DmaSegments } from './memory/dma-segments.js';
export { FileBacking } from './memory/file-backing.js';
export * from './spec/bits.js';
export * as spec from './spec/index.js';
export { hex } from './util/hex.js';
export { UserInputError, ExpectationError } from './util/errors.js';

// SMMUv3
export * from './smmu/features.js';
export * from './smmu/translation/index.js';
export * from './smmu/device/index.js';

// GICv3 ITS, redistributors, GICv2m
export { GicV3, defaultAffinity, type GicV3Options } from './intc/gicv3.js';
export { GicRedistributor, type LpiOutcome } from './intc/redistributor.js';
export { GicDistributor } from './intc/distributor.js';
export { GicIts, type GicItsOptions, type ItsCommandError, type ItsMsiResult } from './intc/its.js';
export { ITS_PROFILES, resolveItsConfig, type ItsConfig, type ItsOptions, type ItsProfileName, type ItsCommandErrorPolicy } from './intc/its-config.js';
export { GicV2m, type GicV2mOptions } from './intc/gicv2m.js';
export { NO_LPI_SINK, NO_SPI_SINK, LpiRecorder, SpiRecorder, type LpiSink, type SpiSink } from './intc/sinks.js';
export { itsRegisters, itsDevice, itsMappedDevices, itsCollections } from './intc/its-inspect.js';

// PCIe
export * from './pcie/index.js';

// virtio-mmio transport and devices (DMA through a DmaPort, e.g. an SMMU stream)
export * from './virtio/index.js';

// platform description, ID maps, runtime
export * from './platform/id-map.js';
export * from './platform/description.js';
export { loadPlatformFile, parsePlatform } from './platform/load.js';
export { validatePlatform, checkDescription, resolveMsi } from './platform/schema.js';
export * from './platform/presets/index.js';
export * from './platform/overrides.js';
export * from './platform/enumerate.js';
export * from './platform/derive-ids.js';
export * from './platform/artifacts.js';
export { Platform, type PlatformCallbacks, type PlatformOptions } from './platform/runtime/platform.js';
export { ReferenceGuest, type GuestOptions } from './guest/guest.js';
export { loadScenarioFile, parseScenario } from './platform/scenario/load.js';
export { runScenario, type RunOptions } from './platform/scenario/runner.js';
export type { ScenarioReport } from './platform/scenario/report.js';

// firmware tables
export * from './firmware/fdt/index.js';
export { buildDeviceTree, PHANDLE } from './firmware/dt/build.js';
export * from './firmware/acpi/index.js';
export * from './firmware/lint/index.js';
