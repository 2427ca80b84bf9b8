// `vsmmu/intc`: GICv3 (distributor subset, redistributors with LPIs), the ITS and GICv2m.
export { GicV3, defaultAffinity, type GicV3Options } from './gicv3.js';
export { GicRedistributor, type LpiOutcome } from './redistributor.js';
export { GicDistributor } from './distributor.js';
export { GicIts, type GicItsOptions, type ItsCommandError, type ItsMsiResult } from './its.js';
export { ITS_PROFILES, resolveItsConfig, type ItsConfig, type ItsOptions, type ItsProfileName, type ItsCommandErrorPolicy } from './its-config.js';
export { GicV2m, type GicV2mOptions } from './gicv2m.js';
export { NO_LPI_SINK, NO_SPI_SINK, LpiRecorder, SpiRecorder, type LpiSink, type SpiSink } from './sinks.js';
export { itsRegisters, itsDevice, itsMappedDevices, itsCollections } from './its-inspect.js';
