// SMMUv3 interrupt outputs and global errors (IHI 0070 §3.18 interrupts and notifications, §7.2
// global errors, §6.3.19-6.3.23 GERROR/GERRORN/*_IRQ_CFG0-2). Wired outputs are IrqLines the VMM
// connects (edge-triggered: pulsed); MSIs are written through an MsiSink when IDR0.MSI = 1 and the
// queue's IRQ_CFG0.ADDR is non-zero. An MSI that aborts activates the matching GERROR.MSI_*_ABT_ERR.
import { NO_IRQ, type IrqLine, type MsiOutcome, type MsiSink } from '../../memory/types.js';
import { rd } from '../../spec/bits.js';
import { GERROR, IRQ_CTRL, irqCfg0Addr, type RegName } from '../../spec/smmuv3/registers.js';
import type { SmmuFeatures } from '../features.js';
import type { RegisterState } from './register-state.js';

/** The wired interrupt outputs (DT interrupt-names / IORT GSIVs). */
export interface SmmuIrqLines {
  eventq: IrqLine;
  priq: IrqLine;
  cmdqSync: IrqLine;
  gerror: IrqLine;
}

export function unconnectedLines(): SmmuIrqLines {
  return { eventq: NO_IRQ, priq: NO_IRQ, cmdqSync: NO_IRQ, gerror: NO_IRQ };
}

type MsiSource = 'EVENTQ' | 'PRIQ' | 'GERROR';

const scratch = new Uint32Array(2);

export class SmmuInterrupts {
  /** Counts of interrupts signalled (wired or MSI), for tests and `inspect`. */
  readonly counts = { eventq: 0, priq: 0, gerror: 0, cmdqSync: 0, sev: 0, msiAborted: 0 };

  constructor(
    private readonly regs: RegisterState,
    private readonly features: SmmuFeatures,
    public lines: SmmuIrqLines,
    /** Where the SMMU's own MSIs (and CMD_SYNC completion writes) go. */
    public msiSink: MsiSink,
    /** The SMMU's own ITS DeviceID (IORT id_mapping_index / DT msi-parent), or null. */
    public msiDeviceId: number | null,
    /** Called for CMD_SYNC CS=SEV (a WFE wake-up event); a no-op unless the VMM hooks it. */
    public onSev: () => void = () => {},
  ) {}

  private irqEnabled(f: typeof IRQ_CTRL.GERROR_IRQEN): boolean {
    scratch[0] = this.regs.get('IRQ_CTRL');
    scratch[1] = 0;
    return rd(scratch, f) === 1;
  }

  /** Sends an MSI configured by `<src>_IRQ_CFG0/1`; returns null when no MSI is configured. */
  private sendMsi(src: MsiSource): MsiOutcome | null {
    if (!this.features.msi) return null;
    const name0 = `${src}_IRQ_CFG0` as RegName;
    const addr = irqCfg0Addr(this.regs.get(name0), this.regs.getHi(name0));
    if (addr === 0) return null;
    const out = this.msiSink.msiWrite(addr, this.regs.get(`${src}_IRQ_CFG1` as RegName), this.msiDeviceId);
    if (out === 'aborted') this.counts.msiAborted++;
    return out;
  }

  /** New entries in the event queue (§3.18). */
  eventq(): void {
    if (!this.irqEnabled(IRQ_CTRL.EVENTQ_IRQEN)) return;
    this.counts.eventq++;
    this.lines.eventq.pulse();
    if (this.sendMsi('EVENTQ') === 'aborted') this.activate(1 << GERROR.MSI_EVENTQ_ABT_ERR.lsb);
  }

  /** New entries in the PRI queue. */
  priq(): void {
    if (!this.features.pri || !this.irqEnabled(IRQ_CTRL.PRIQ_IRQEN)) return;
    this.counts.priq++;
    this.lines.priq.pulse();
    if (this.sendMsi('PRIQ') === 'aborted') this.activate(1 << GERROR.MSI_PRIQ_ABT_ERR.lsb);
  }

  /**
   * CMD_SYNC completion with CS=IRQ (§4.7.3): the wired cmdq-sync output is pulsed and, when MSIs
   * are implemented and the command's MSIAddress field is non-zero, MSIData is written to `msiAddr`
   * (already truncated to the OAS; -1 = MSIAddress is zero). Returns false if the write aborted.
   */
  cmdSync(msiAddr: number, msiData: number): boolean {
    this.counts.cmdqSync++;
    this.lines.cmdqSync.pulse();
    if (!this.features.msi || msiAddr < 0) return true;
    const out = this.msiSink.msiWrite(msiAddr, msiData, this.msiDeviceId);
    if (out === 'aborted') {
      this.counts.msiAborted++;
      this.activate(1 << GERROR.MSI_CMDQ_ABT_ERR.lsb);
      return false;
    }
    return true;
  }

  sev(): void {
    this.counts.sev++;
    this.onSev();
  }

  /** Bits of GERROR that are active (GERROR ^ GERRORN). */
  active(): number {
    return (this.regs.get('GERROR') ^ this.regs.get('GERRORN')) >>> 0;
  }

  /**
   * Activates global errors (§7.2): each bit not already active is toggled in GERROR. If any became
   * active and GERROR_IRQEN is set, the gerror interrupt is signalled.
   */
  activate(bits: number): void {
    const newly = (bits & ~this.active()) >>> 0;
    if (newly === 0) return;
    this.regs.set('GERROR', this.regs.get('GERROR') ^ newly);
    if (!this.irqEnabled(IRQ_CTRL.GERROR_IRQEN)) return;
    this.counts.gerror++;
    this.lines.gerror.pulse();
    // An aborted GERROR MSI records MSI_GERROR_ABT_ERR without sending another GERROR MSI.
    if (this.sendMsi('GERROR') === 'aborted') {
      const b = (1 << GERROR.MSI_GERROR_ABT_ERR.lsb) & ~this.active();
      if (b !== 0) this.regs.set('GERROR', this.regs.get('GERROR') ^ b);
    }
  }
}
