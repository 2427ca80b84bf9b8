// GICv2m frame: MSI_TYPER, MSI_SETSPI_NS range checks, IIDR, MsiSink routing by address, config
// validation. QEMU virt values: base SPI INTID 80, 64 SPIs -> MSI_TYPER 0x00500040, IIDR 0x05100000.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GicV2m } from './gicv2m.js';
import { SpiRecorder } from './sinks.js';
import { V2M } from '../spec/gic/gicv2m-registers.js';
import { UserInputError } from '../util/errors.js';

test('QEMU virt frame: MSI_TYPER 0x00500040, IIDR 0x05100000', () => {
  const v = new GicV2m({ baseSpi: 80, spiCount: 64 });
  assert.equal(v.read(V2M.MSI_TYPER, 4), 0x0050_0040);
  assert.equal(v.read(V2M.MSI_IIDR, 4), 0x0510_0000);
  assert.equal(v.read(V2M.PIDR2, 4), 0);
  assert.equal(v.read(V2M.MSI_TYPER, 2), 0, 'reads must be 32-bit');
  assert.equal(v.mmioSize, 0x1000);
});

test('MSI_SETSPI_NS sets SPIs in range pending and ignores the rest', () => {
  const spis = new SpiRecorder();
  const v = new GicV2m({ baseSpi: 80, spiCount: 64, spiSink: spis });
  v.write(V2M.MSI_SETSPI_NS, 4, 80);
  v.write(V2M.MSI_SETSPI_NS, 2, 143);
  v.write(V2M.MSI_SETSPI_NS, 4, 79);
  v.write(V2M.MSI_SETSPI_NS, 4, 144);
  v.write(V2M.MSI_SETSPI_NS, 1, 100);
  v.write(V2M.MSI_TYPER, 4, 100);
  assert.deepEqual(spis.spis, [80, 143]);
  assert.equal(v.rejected, 2);
});

test('msiSink routes by address (DeviceID ignored)', () => {
  const spis = new SpiRecorder();
  const v = new GicV2m({ baseSpi: 928, spiCount: 64, spiSink: spis, iidr: 0x1234 });
  const sink = v.msiSink(0xeffe_8000);
  assert.equal(sink.msiWrite(0xeffe_8040, 930, 7), 'delivered');
  assert.equal(sink.msiWrite(0xeffe_8040, 930, null), 'delivered');
  assert.equal(sink.msiWrite(0xeffe_8044, 930, null), 'dropped');
  assert.equal(sink.msiWrite(0xeffe_8040, 900, null), 'dropped');
  assert.deepEqual(spis.spis, [930, 930]);
  assert.equal(v.read(V2M.MSI_IIDR, 4), 0x1234);
  assert.equal(v.read(V2M.MSI_TYPER, 4), (928 << 16) | 64);
});

test('SPI range checks on the configuration', () => {
  assert.throws(() => new GicV2m({ baseSpi: 31, spiCount: 1 }), UserInputError);
  assert.throws(() => new GicV2m({ baseSpi: 1000, spiCount: 64 }), /v2m.spiCount/);
  assert.throws(() => new GicV2m({ baseSpi: 64, spiCount: 0 }), /v2m.spiCount/);
  assert.doesNotThrow(() => new GicV2m({ baseSpi: 956, spiCount: 64 }));
});

test('fuzz: any guest access is RAZ/WI or an in-range SPI, never a throw', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ off: fc.integer({ min: 0, max: 0xfff }), size: fc.constantFrom(1, 2, 4) as fc.Arbitrary<1 | 2 | 4>, value: fc.integer({ min: 0, max: 0xffff_ffff }) }), { maxLength: 50 }),
      (ops) => {
        const spis = new SpiRecorder();
        const v = new GicV2m({ baseSpi: 48, spiCount: 16, spiSink: spis });
        for (const o of ops) {
          v.write(o.off, o.size, o.value);
          v.read(o.off, o.size);
        }
        return spis.spis.every((s) => s >= 48 && s < 64);
      },
    ),
  );
});
