// Device models for described endpoints by name: which endpoint is a DMA engine, which a queue
// device; everything else gets the PCIe subsystem's generic endpoint. Keeps the created models so
// a scenario (or a VMM) can reach them.
import { genericEndpoint, type EndpointFactory } from '../build-topology.js';
import { DmaEngine } from './dma-engine.js';
import { QueueDevice } from './queue-device.js';

export type DeviceModelName = 'dma-engine' | 'queue' | 'generic';
export const DEVICE_MODEL_NAMES: readonly DeviceModelName[] = Object.freeze(['dma-engine', 'queue', 'generic']);

export interface DeviceModels {
  /** Model instances by endpoint name (function 0) and, for multi-function endpoints, "<name>.<fn>". */
  readonly dmaEngines: Map<string, DmaEngine>;
  readonly queues: Map<string, QueueDevice>;
}

export function deviceFactory(models: Readonly<Record<string, DeviceModelName>>): { endpoint: EndpointFactory; models: DeviceModels } {
  const m: DeviceModels = { dmaEngines: new Map(), queues: new Map() };
  const endpoint: EndpointFactory = (e, fn, path) => {
    const kind = models[e.name] ?? 'generic';
    const key = e.functions > 1 ? `${e.name}.${fn}` : e.name;
    if (kind === 'dma-engine') {
      const d = new DmaEngine(key);
      m.dmaEngines.set(key, d);
      if (fn === 0) m.dmaEngines.set(e.name, d);
      return d.fn;
    }
    if (kind === 'queue') {
      const q = new QueueDevice(key);
      m.queues.set(key, q);
      if (fn === 0) m.queues.set(e.name, q);
      return q.fn;
    }
    return genericEndpoint(e, fn, path);
  };
  return { endpoint, models: m };
}
