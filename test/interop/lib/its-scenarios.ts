// The ITS differential scenarios: ITS commands MAPD/MAPC/MAPTI/INT/CLEAR/
// DISCARD/MOVI and edu MSIs, with the SMMU bypassing or translating the MSI write (IHI 0070 §3.18:
// an MSI is a DMA write of the device's stream). What is compared: LPI pending bits in the guest's
// pending tables (IHI 0069 §5.1.2), GITS_CREADR, and the SMMU's event records.
import { LPI_INTID_BASE } from '../../../src/spec/gic/gic-common.js';
import { GITS } from '../../../src/spec/gic/its-registers.js';
import type { Scenario } from './differential.js';
import { ItsDriver } from './its-driver.js';
import { EDU_SID, VIRT } from './machine.js';
import type { Recorder } from './observe.js';
import { primeDevice } from './scenario-helpers.js';
import { cdWords, LAYOUT, PageTables, SmmuDriver, STE_BYPASS, STE_S1 } from './smmu-driver.js';

/** GITS_TRANSLATER: the MSI doorbell (frame 1 of the ITS). */
const DOORBELL = BigInt(VIRT.itsBase + GITS.TRANSLATER);
const LPI = (n: number): number => LPI_INTID_BASE + n;

async function pending(its: ItsDriver, rec: Recorder, label: string): Promise<void> {
  for (let pe = 0; pe < its.cpus; pe++) rec.value(`${label}: pending LPIs on PE ${pe}`, await its.pendingLpis(pe));
}

export const ITS_SCENARIOS: readonly Scenario[] = [
  {
    name: 'MAPD/MAPC/MAPTI, edu MSI (SMMU bypass), INT, CLEAR, DISCARD',
    async run(m, rec) {
      const its = new ItsDriver(m);
      await its.enable();
      rec.value('CREADR after MAPD/MAPC/MAPTI', Number(await its.commands([
        ['MAPD', { DeviceID: EDU_SID, Size: 4, ITT_addr: BigInt(its.itt(EDU_SID)) >> 8n, V: 1 }],
        ['MAPC', { ICID: 0, RDbase: 0, V: 1 }],
        ['MAPTI', { DeviceID: EDU_SID, EventID: 3, pINTID: LPI(5), ICID: 0 }],
        ['MAPTI', { DeviceID: EDU_SID, EventID: 7, pINTID: LPI(40), ICID: 0 }],
        ['SYNC', { RDbase: 0 }],
      ])));
      await pending(its, rec, 'before any MSI');
      await m.eduMsi(DOORBELL, 3);
      await pending(its, rec, 'after MSI with EventID 3');
      await its.commands([['INT', { DeviceID: EDU_SID, EventID: 7 }]]);
      await pending(its, rec, 'after INT EventID 7');
      await its.commands([['CLEAR', { DeviceID: EDU_SID, EventID: 3 }]]);
      await pending(its, rec, 'after CLEAR EventID 3');
      await its.commands([['DISCARD', { DeviceID: EDU_SID, EventID: 7 }]]);
      await pending(its, rec, 'after DISCARD EventID 7');
      await m.eduMsi(DOORBELL, 7);
      await pending(its, rec, 'after MSI with the discarded EventID 7');
      await m.eduMsi(DOORBELL, 3);
      await pending(its, rec, 'after MSI with EventID 3 again');
    },
  },
  {
    name: 'MOVI moves a pending LPI to the other redistributor (2 PEs)',
    cpus: 2,
    async run(m, rec) {
      const its = new ItsDriver(m, 2);
      await its.enable();
      await its.commands([
        ['MAPD', { DeviceID: EDU_SID, Size: 4, ITT_addr: BigInt(its.itt(EDU_SID)) >> 8n, V: 1 }],
        ['MAPC', { ICID: 0, RDbase: 0, V: 1 }],
        ['MAPC', { ICID: 1, RDbase: 1, V: 1 }],
        ['MAPTI', { DeviceID: EDU_SID, EventID: 2, pINTID: LPI(9), ICID: 0 }],
      ]);
      await m.eduMsi(DOORBELL, 2);
      await pending(its, rec, 'after MSI');
      await its.commands([['MOVI', { DeviceID: EDU_SID, EventID: 2, ICID: 1 }]]);
      await pending(its, rec, 'after MOVI to collection 1');
      await m.eduMsi(DOORBELL, 2);
      await its.commands([['CLEAR', { DeviceID: EDU_SID, EventID: 2 }]]);
      await pending(its, rec, 'after CLEAR');
      await m.eduMsi(DOORBELL, 2);
      await pending(its, rec, 'after MSI to the moved LPI');
    },
  },
  {
    name: 'MAPI (EventID = INTID), INV/INVALL, MOVALL moves every pending LPI (2 PEs)',
    cpus: 2,
    async run(m, rec) {
      const its = new ItsDriver(m, 2);
      await its.enable();
      await its.commands([
        ['MAPD', { DeviceID: EDU_SID, Size: 15, ITT_addr: BigInt(its.itt(EDU_SID)) >> 8n, V: 1 }],
        ['MAPC', { ICID: 0, RDbase: 0, V: 1 }],
        ['MAPC', { ICID: 1, RDbase: 1, V: 1 }],
        ['MAPI', { DeviceID: EDU_SID, EventID: LPI(20), ICID: 0 }],
        ['MAPTI', { DeviceID: EDU_SID, EventID: 1, pINTID: LPI(21), ICID: 0 }],
      ]);
      await m.eduMsi(DOORBELL, LPI(20));
      await m.eduMsi(DOORBELL, 1);
      await its.commands([['INV', { DeviceID: EDU_SID, EventID: 1 }], ['INVALL', { ICID: 0 }], ['SYNC', { RDbase: 0 }]]);
      await pending(its, rec, 'after MSIs to the MAPI and MAPTI events, INV, INVALL');
      await its.commands([['MOVALL', { RDbase: 0, RDbase2: 1 }]]);
      await pending(its, rec, 'after MOVALL 0 -> 1');
    },
  },
  {
    name: 'two-level (indirect) device table: a DeviceID under a valid level-1 entry works, one under an invalid entry does not',
    async run(m, rec) {
      const its = new ItsDriver(m);
      await its.enable(true);
      // A 4 KiB level-2 page holds 4096 / Entry_Size DTEs (Entry_Size is the ITS's choice, <= 16 bytes here),
      // so DeviceID 0x8 is under level-1 entry 0 and DeviceID 0x7000 under an invalid level-1 entry either way.
      rec.value('CREADR', Number(await its.commands([
        ['MAPD', { DeviceID: EDU_SID, Size: 4, ITT_addr: BigInt(its.itt(EDU_SID)) >> 8n, V: 1 }],
        ['MAPD', { DeviceID: 0x7000, Size: 4, ITT_addr: BigInt(its.itt(0x70)) >> 8n, V: 1 }],
        ['MAPC', { ICID: 0, RDbase: 0, V: 1 }],
        ['MAPTI', { DeviceID: EDU_SID, EventID: 1, pINTID: LPI(30), ICID: 0 }],
        ['MAPTI', { DeviceID: 0x7000, EventID: 1, pINTID: LPI(31), ICID: 0 }],
        ['INT', { DeviceID: 0x7000, EventID: 1 }],
      ])));
      await m.eduMsi(DOORBELL, 1);
      await pending(its, rec, 'after MSI from DeviceID 8 and INT for DeviceID 0x7000');
    },
  },
  {
    name: 'ITS commands with bad operands are skipped; MSIs without an ITE are ignored',
    async run(m, rec) {
      const its = new ItsDriver(m);
      await its.enable();
      rec.value('CREADR after the commands', Number(await its.commands([
        ['MAPD', { DeviceID: EDU_SID, Size: 1, ITT_addr: BigInt(its.itt(EDU_SID)) >> 8n, V: 1 }], // 2 EventID bits
        ['MAPC', { ICID: 0, RDbase: 0, V: 1 }],
        ['MAPTI', { DeviceID: EDU_SID, EventID: 9, pINTID: LPI(1), ICID: 0 }], // EventID beyond the ITT: skipped
        ['MAPTI', { DeviceID: EDU_SID, EventID: 1, pINTID: 100, ICID: 0 }], // not an LPI: skipped
        ['MAPTI', { DeviceID: 0x77, EventID: 0, pINTID: LPI(2), ICID: 0 }], // unmapped device: skipped
        ['MAPTI', { DeviceID: EDU_SID, EventID: 2, pINTID: LPI(3), ICID: 0 }],
        ['INT', { DeviceID: EDU_SID, EventID: 0 }], // no ITE: skipped
      ])));
      await pending(its, rec, 'after the commands');
      await m.eduMsi(DOORBELL, 9);
      await m.eduMsi(DOORBELL, 1);
      await pending(its, rec, 'after MSIs without ITEs');
      await m.eduMsi(DOORBELL, 2);
      await pending(its, rec, 'after MSI with EventID 2');
    },
  },
  {
    name: 'MSI through the SMMU to the ITS: mapped doorbell delivers, unmapped or read-only faults',
    async run(m, rec) {
      await primeDevice(m);
      const its = new ItsDriver(m);
      await its.enable();
      await its.commands([
        ['MAPD', { DeviceID: EDU_SID, Size: 4, ITT_addr: BigInt(its.itt(EDU_SID)) >> 8n, V: 1 }],
        ['MAPC', { ICID: 0, RDbase: 0, V: 1 }],
        ['MAPTI', { DeviceID: EDU_SID, EventID: 3, pINTID: LPI(11), ICID: 0 }],
        ['MAPTI', { DeviceID: EDU_SID, EventID: 4, pINTID: LPI(12), ICID: 0 }],
      ]);
      const d = new SmmuDriver(m);
      await d.enable({ fmt: 'linear', log2size: 8 });
      await d.writeSte(EDU_SID, STE_BYPASS());
      await m.eduMsi(DOORBELL, 3);
      rec.events('bypass STE: events', await d.events());
      await pending(its, rec, 'bypass STE');
      await its.commands([['CLEAR', { DeviceID: EDU_SID, EventID: 3 }]]);
      // Stage 1: Linux's doorbell IOVA for a DMA domain is the top page of the 32-bit space.
      const pt = new PageTables(m, d.ptAlloc, 16);
      await d.writeCd(LAYOUT.cds, cdWords({ ttb0: pt.root }));
      await d.writeSte(EDU_SID, STE_S1(LAYOUT.cds));
      await d.commands([['CFGI_STE', { SID: EDU_SID }]]);
      await m.eduMsi(0xffff_f040n, 3);
      rec.events('S1, doorbell not mapped: events', await d.events());
      await pending(its, rec, 'S1, doorbell not mapped');
      await pt.map(0xffff_f000n, DOORBELL & ~0xfffn, 3, { readOnly: true });
      await m.eduMsi(0xffff_f040n, 3);
      rec.events('S1, doorbell mapped read-only: events', await d.events());
      await pending(its, rec, 'S1, doorbell mapped read-only');
      await pt.map(0xffff_e000n, DOORBELL & ~0xfffn);
      await m.eduMsi(0xffff_e040n, 4);
      rec.events('S1, doorbell mapped: events', await d.events());
      await pending(its, rec, 'S1, doorbell mapped');
    },
  },
];
