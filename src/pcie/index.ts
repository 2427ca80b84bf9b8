// PCIe subsystem: topology (root complexes, root ports, switches, endpoints), configuration space
// and ECAM, MSI/MSI-X, hot-plug, and the routing of DMA and MSIs through the SMMU to the MSI
// controller by requester ID -> stream ID -> DeviceID. See docs/pcie.md.
export { RootComplex, type RootComplexOptions } from './root-complex.js';
export { PciePort, type PortKind, type PortOptions, type Pluggable } from './port.js';
export { PcieSwitch, type SwitchOptions } from './switch.js';
export { EndpointFunction, PcieDevice, type EndpointFunctionOptions } from './endpoint.js';
export { PciFunction, type BarSpec, type BarInfo, type FunctionHeader } from './function.js';
export { PciBus, NO_BUS } from './bus.js';
export { ConfigSpace, type ConfigWriteObserver } from './config-space.js';
export { MsiCapability, type MsiOptions } from './msi-capability.js';
export { MsixCapability, type MsixOptions } from './msix-capability.js';
export { IdRouting, type RootComplexIdMaps } from './id-routing.js';
export { mapId, rid, formatBdf, type IdMapping } from './id-map.js';
export { PcieDiagnostics, formatDiagnostic, type PcieDiagnostic, type PcieDiagnosticKind } from './diagnostics.js';
export { VIRTIO_F_ACCESS_PLATFORM, accessPlatformRequired, mustOfferAccessPlatform, withAccessPlatform } from './virtio.js';
export type { IommuAttachment, SignalOutcome, BarHandler, FunctionIdentity, MsiSender } from './types.js';
export { topologyTree, formatTopology, type TopologyTree, type TopologyNode, type TopologyNodeKind } from './describe.js';
export { savePcieState, restorePcieState, PCIE_STATE_VERSION, type PcieState, type PcieFunctionState } from './state.js';
