// Reads what the Linux guest printed on its console (kernel log + the VSMMU-* sections of the
// initramfs /init) and turns it into the pass/fail checks of the Linux interop test: arm-smmu-v3
// probed, the disk in an IOMMU group, disk I/O verified by checksum, ITS-MSI interrupts taken,
// and no SMMU event reported. The same checker must reject a guest booted on a broken DTB.
import { consoleSection } from './linux-boot.js';

export interface MsiLine {
  readonly count: number;
  readonly chip: string;
  readonly hwirq: number;
  readonly name: string;
}

export interface GuestReport {
  /** The `arm-smmu-v3 ...: ias N-bit, oas N-bit` probe line, or null. */
  readonly smmuProbe: string | null;
  /** PCI functions listed under /sys/kernel/iommu_groups/N/devices, e.g. "0000:00:02.0". */
  readonly groupedDevices: string[];
  readonly readSha256: string | null;
  readonly writeStatus: number | null;
  /** /proc/interrupts lines whose chip is the ITS: `ITS-MSI` (6.1) or a per-device `ITS-PCI-MSI(X)-<bdf>` domain (6.12). */
  readonly itsMsi: MsiLine[];
  /** Event codes the SMMU driver reported ("event 0x02 received"). */
  readonly smmuEvents: number[];
  readonly ioDone: boolean;
}

export function parseGuestReport(console: string): GuestReport {
  const probe = /arm-smmu-v3 \S+: ias \d+-bit, oas \d+-bit[^\r\n]*/.exec(console);
  const groupedDevices = consoleSection(console, 'GROUPS')
    .map((l) => /^group \d+\/devices\/(\S+)/.exec(l.trim())?.[1])
    .filter((s): s is string => s !== undefined);
  const sha = /VSMMU-READ-SHA256 ([0-9a-f]{64})/.exec(console);
  const ws = /VSMMU-WRITE-STATUS (\d+)/.exec(console);
  const itsMsi: MsiLine[] = [];
  for (const l of consoleSection(console, 'INTERRUPTS')) {
    const m = /^\s*\d+:\s+(\d+)\s+(ITS-MSI|ITS-PCI-MSIX?-\S+)\s+(\d+)\s+\S+\s+(\S+)/.exec(l);
    if (m?.[1] && m[2] && m[3] && m[4]) itsMsi.push({ count: Number(m[1]), chip: m[2], hwirq: Number(m[3]), name: m[4] });
  }
  const smmuEvents = [...console.matchAll(/arm-smmu-v3 \S+: event 0x([0-9a-f]+) received/g)].map((m) => parseInt(m[1] ?? '', 16));
  return {
    smmuProbe: probe ? probe[0] : null,
    groupedDevices,
    readSha256: sha?.[1] ?? null,
    writeStatus: ws?.[1] !== undefined ? Number(ws[1]) : null,
    itsMsi,
    smmuEvents,
    ioDone: /VSMMU-IO-DONE/.test(console),
  };
}

export interface Expectation {
  /** PCI function of the disk, e.g. "0000:00:02.0". */
  readonly diskBdf: string;
  readonly readSha256: string;
  /** Whether the host found the guest's disk copy in the image afterwards. */
  readonly copyLanded: boolean;
}

/** Every way the guest's report falls short of a working SMMU + ITS setup; empty when it passes. */
export function guestReportProblems(r: GuestReport, e: Expectation): string[] {
  const p: string[] = [];
  if (!r.smmuProbe) p.push('arm-smmu-v3 did not probe');
  if (!r.groupedDevices.includes(e.diskBdf)) p.push(`disk ${e.diskBdf} is in no IOMMU group (groups: ${r.groupedDevices.join(', ') || 'none'})`);
  if (r.readSha256 !== e.readSha256) p.push(`disk read checksum ${r.readSha256 ?? 'missing'} != expected ${e.readSha256}`);
  if (r.writeStatus !== 0) p.push(`disk write status ${r.writeStatus ?? 'missing'}`);
  if (!e.copyLanded) p.push('the disk copy the guest wrote is not in the disk image');
  const diskMsis = r.itsMsi.filter((m) => /^virtio\d+-req/.test(m.name) && m.count > 0);
  if (diskMsis.length === 0) p.push(`no ITS-MSI interrupt taken for a virtio request queue (ITS-MSI lines: ${JSON.stringify(r.itsMsi)})`);
  if (r.smmuEvents.length > 0) p.push(`SMMU reported events: ${[...new Set(r.smmuEvents)].map((c) => '0x' + c.toString(16)).join(', ')}`);
  if (!r.ioDone) p.push('the guest did not finish its script');
  return p;
}
