// `vsmmu/platform`: platform descriptions (files, presets, flags), PCIe enumeration and the derived
// RID -> stream ID -> ITS DeviceID maps, the generated firmware files, the runtime that wires every
// model together, the reference guest and scenarios.
export { mapId, rid, formatBdf, type IdMapping } from '../pcie/id-map.js';
export * from './description.js';
export { loadPlatformFile, parsePlatform } from './load.js';
export { validatePlatform, checkDescription, resolveMsi } from './schema.js';
export * from './presets/index.js';
export * from './overrides.js';
export * from './enumerate.js';
export * from './derive-ids.js';
export { buildRootComplex, buildChild, genericEndpoint, type BuiltTopology, type BuildOptions, type EndpointFactory } from './build-topology.js';
export * from './artifacts.js';
export { Platform, type PlatformCallbacks, type PlatformOptions } from './runtime/platform.js';
export { ReferenceGuest, type GuestOptions } from '../guest/guest.js';
export { loadScenarioFile, parseScenario } from './scenario/load.js';
export { runScenario, type RunOptions } from './scenario/runner.js';
export type { ScenarioReport } from './scenario/report.js';
