// The typed platform description: the one input from which the device tree, IORT, MADT, the ID
// maps (derive-ids.ts) and the runtime platform are built. Layout facts only; no behaviour.
//
// A description is produced by `loadPlatformFile` / `parsePlatform` (load.ts, validated by
// schema.ts), by a preset (presets/), and may be adjusted by `applyOverrides` (overrides.ts).
// Every value here is already validated and normalised: defaults filled in, `msi: 'auto'`
// resolved, addresses as plain numbers (all below 2^53).
//
// Interrupt numbering: SPIs are given as SPI numbers (the DT `interrupts` cell); the GIC INTID
// (IORT GSIV, MADT) is SPI + 32. PPIs likewise: INTID = PPI + 16.

/** A physical address range. */
export interface AddressRange {
  readonly base: number;
  readonly size: number;
}

/** An inclusive bus-number range. */
export interface BusRange {
  readonly start: number;
  readonly end: number;
}

export type Trigger = 'edge' | 'level';

/** A shared peripheral interrupt (INTID = spi + 32). */
export interface SpiInterrupt {
  readonly spi: number;
  readonly trigger: Trigger;
}

/** A private peripheral interrupt (INTID = ppi + 16). */
export interface PpiInterrupt {
  readonly ppi: number;
  readonly trigger: Trigger;
}

export type GicVersion = 2 | 3;

/** The MSI controller in use. The input `'auto'` is resolved when the description is normalised. */
export type MsiController = 'its' | 'v2m' | 'none';
/** What a config or `--gic-msi` may ask for. */
export type MsiChoice = MsiController | 'auto';

/** A GICv3 ITS frame (128 KiB: control frame + translation frame; GITS_TRANSLATER at +0x10040). */
export interface ItsDesc {
  /** Name used as an ID-mapping target (e.g. "its0"). */
  readonly name: string;
  readonly base: number;
  /** GIC ITS ID (MADT GIC ITS structure, IORT ITS group). */
  readonly id: number;
}

/** A GICv2m MSI frame (4 KiB; MSI_SETSPI_NS at +0x40). */
export interface V2mDesc {
  readonly name: string;
  readonly base: number;
  /** First SPI number of the frame's block (INTID = spiBase + 32). */
  readonly spiBase: number;
  readonly spiCount: number;
  /** MADT GIC MSI frame ID. */
  readonly id: number;
}

export interface GicDesc {
  readonly version: GicVersion;
  /** GICD (64 KiB). */
  readonly distributor: AddressRange;
  /** GICv3 redistributor regions (GICR); empty for GICv2. */
  readonly redistributors: readonly AddressRange[];
  /** GICv2 CPU interface (GICC); null for GICv3. */
  readonly cpuInterface: AddressRange | null;
  /** VGIC maintenance interrupt (PPI). */
  readonly maintenance: PpiInterrupt;
  /** The ITS frame, when the platform has one (it is described, and used, only when msi = 'its'). */
  readonly its: ItsDesc | null;
  /** The GICv2m frame, when the platform has one (used only when msi = 'v2m'). */
  readonly v2m: V2mDesc | null;
  /** The MSI controller in use, resolved from the requested choice. */
  readonly msi: MsiController;
  /** What was asked for (kept so an override can re-resolve). */
  readonly msiRequested: MsiChoice;
}

export interface CpusDesc {
  readonly count: number;
  /** e.g. "arm,cortex-a57". */
  readonly compatible: string;
}

export interface PsciDesc {
  /** SMC or HVC conduit. QEMU TCG without EL2/EL3 uses "hvc". */
  readonly method: 'hvc' | 'smc';
}

export interface TimerDesc {
  /** Secure physical, non-secure physical, virtual, hypervisor timer PPIs (DT order). */
  readonly secure: PpiInterrupt;
  readonly nonSecure: PpiInterrupt;
  readonly virtual: PpiInterrupt;
  readonly hypervisor: PpiInterrupt;
}

/** An Arm PL011 UART with its fixed APB clock. */
export interface UartDesc {
  readonly base: number;
  readonly size: number;
  readonly interrupt: SpiInterrupt;
  readonly clockHz: number;
}

/** Wired interrupts of an SMMUv3 (any may be absent; Linux needs at least eventq and gerror
 * unless the SMMU signals them by MSI). */
export interface SmmuInterrupts {
  readonly eventq: SpiInterrupt | null;
  readonly priq: SpiInterrupt | null;
  readonly cmdqSync: SpiInterrupt | null;
  readonly gerror: SpiInterrupt | null;
}

/** Feature profile names of src/smmu/features.ts. */
export type SmmuProfileName = 'default' | 'qemu-7.2' | 'qemu-10.0';

export interface SmmuDesc {
  /** Name used as an ID-mapping target and in messages (e.g. "smmu0"). */
  readonly name: string;
  /** Base of the 128 KiB register window (page 0 + page 1). */
  readonly base: number;
  /** Names of the root complexes whose requesters this SMMU translates (may be empty when it only
   * serves platform devices such as virtio-mmio transports). */
  readonly rootComplexes: readonly string[];
  readonly interrupts: SmmuInterrupts;
  readonly features: SmmuProfileName;
  /** Coherent table walks (IORT COHACC override, DT dma-coherent). */
  readonly coherent: boolean;
  /**
   * The SMMU signals its own interrupts by MSI through the ITS (DT msi-parent, IORT DeviceID
   * mapping). Only meaningful when the feature profile has IDR0.MSI and the MSI controller is an ITS.
   */
  readonly msi: boolean;
  /** The ITS device ID of the SMMU's own MSIs (IORT single mapping). */
  readonly msiDeviceId: number;
  /** IORT proximity domain, or null for none. */
  readonly proximityDomain: number | null;
}

/** An endpoint device with 1..8 functions. */
export interface EndpointDesc {
  readonly kind: 'endpoint';
  readonly name: string;
  /** Device number on its bus (0..31). Behind a port, always 0. */
  readonly device: number;
  readonly functions: number;
}

/** A switch: an upstream port (device 0 on the parent port's secondary bus) whose internal bus
 * carries the downstream ports as functions 0..n-1 of device 0 (the original's layout). */
export interface SwitchDesc {
  readonly kind: 'switch';
  readonly name: string;
  readonly downstreamPorts: readonly PortDesc[];
}

/** A root port (on the root bus, devfn = device << 3) or a switch downstream port. */
export interface PortDesc {
  readonly name: string;
  /** Root ports: device number on the root bus. Switch downstream ports: ignored (function index). */
  readonly device: number;
  readonly hotplug: boolean;
  /** What sits below the port (on its secondary bus), or null for an empty slot. */
  readonly child: EndpointDesc | SwitchDesc | null;
}

/** Legacy INTx routing (DT interrupt-map with the standard swizzle), as QEMU's virt does. */
export interface IntxDesc {
  /** SPIs of INTA..INTD for device 0 (swizzled by device number). */
  readonly spis: readonly [number, number, number, number];
}

export interface RootComplexDesc {
  /** Unique name (`--smmu` refers to it), e.g. "pcie0" or "s0rc0". */
  readonly name: string;
  readonly segment: number;
  /** ECAM window; its size is (buses.end - buses.start + 1) MiB. */
  readonly ecam: AddressRange;
  readonly buses: BusRange;
  /** 32-bit MMIO window (PCI address = CPU address). */
  readonly mmio32: AddressRange | null;
  /** 64-bit prefetchable-capable MMIO window (PCI address = CPU address). */
  readonly mmio64: AddressRange | null;
  /** I/O port window: CPU address of PCI I/O address 0. */
  readonly io: AddressRange | null;
  /** Stream ID for RID 0 on the covering SMMU: SID = streamIdBase + RID. Default 0. */
  readonly streamIdBase: number;
  /** ITS device ID for RID 0: devid = deviceIdBase + RID. Default segment << 16. */
  readonly deviceIdBase: number;
  /** Bus ranges whose requesters bypass the SMMU (partial coverage); empty when fully covered. */
  readonly iommuBypass: readonly BusRange[];
  /** IORT RC node: ATS supported. */
  readonly ats: boolean;
  /** IORT RC node: memory address size limit in bits. */
  readonly addressLimitBits: number;
  readonly dmaCoherent: boolean;
  readonly intx: IntxDesc | null;
  /** Root ports, in the order firmware scans them (by device number). */
  readonly ports: readonly PortDesc[];
  /** Endpoints directly on the root bus (integrated endpoints, e.g. QEMU's host bridge 00:00.0). */
  readonly endpoints: readonly EndpointDesc[];
}

/**
 * A virtio-mmio transport (virtio 1.2 §4.2): a 512-byte register window and one interrupt,
 * optionally behind an SMMU with its own stream ID (DT `iommus = <&smmu streamId>`).
 */
export interface VirtioMmioDesc {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly interrupt: SpiInterrupt;
  /** The SMMU translating its DMA, or null (DMA goes straight to memory). */
  readonly smmu: string | null;
  /** Its stream ID on that SMMU. */
  readonly streamId: number;
  readonly dmaCoherent: boolean;
}

export interface PlatformDescription {
  /** Free text, DT `model`. */
  readonly model: string;
  /** DT root `compatible`. */
  readonly compatible: readonly string[];
  readonly memory: readonly AddressRange[];
  readonly cpus: CpusDesc;
  readonly psci: PsciDesc;
  readonly timer: TimerDesc;
  readonly gic: GicDesc;
  readonly uart: UartDesc | null;
  readonly smmus: readonly SmmuDesc[];
  readonly rootComplexes: readonly RootComplexDesc[];
  /** virtio-mmio transports (platform devices, described in the device tree only). */
  readonly virtioMmio: readonly VirtioMmioDesc[];
  /** DT /chosen bootargs (optional). */
  readonly bootargs: string | null;
}

/** INTID of an SPI (IORT GSIV, MADT). */
export function spiIntid(i: SpiInterrupt): number {
  return i.spi + 32;
}

/** INTID of a PPI. */
export function ppiIntid(i: PpiInterrupt): number {
  return i.ppi + 16;
}
